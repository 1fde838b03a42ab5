package local.dataport.mcstandin;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.io.PrintStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.net.URI;
import java.net.URISyntaxException;
import java.net.UnknownHostException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.time.ZoneOffset;
import java.time.format.DateTimeFormatter;
import java.util.ArrayList;
import java.util.List;
import java.util.Properties;

import software.amazon.awssdk.auth.credentials.AwsBasicCredentials;
import software.amazon.awssdk.auth.credentials.StaticCredentialsProvider;
import software.amazon.awssdk.core.checksums.RequestChecksumCalculation;
import software.amazon.awssdk.core.checksums.ResponseChecksumValidation;
import software.amazon.awssdk.core.exception.SdkException;
import software.amazon.awssdk.http.urlconnection.UrlConnectionHttpClient;
import software.amazon.awssdk.regions.Region;
import software.amazon.awssdk.retries.DefaultRetryStrategy;
import software.amazon.awssdk.services.s3.S3Client;
import software.amazon.awssdk.services.s3.model.BucketAlreadyExistsException;
import software.amazon.awssdk.services.s3.model.BucketAlreadyOwnedByYouException;
import software.amazon.awssdk.services.s3.model.ListObjectsV2Request;
import software.amazon.awssdk.services.s3.model.S3Object;

/**
 * A stand-in for the four `mc` (MinIO client) commands dataport's tests need, since mc is AGPL:
 *
 * <pre>
 *   mc-standin alias set ALIAS URL ACCESS_KEY SECRET_KEY
 *   mc-standin mb [--ignore-existing|-p] ALIAS/BUCKET
 *   mc-standin ls [--recursive|-r] ALIAS/BUCKET[/PREFIX]
 *   mc-standin rm --recursive --force ALIAS/BUCKET/PREFIX
 * </pre>
 *
 * <p>As mc does, {@code alias set} checks that the server answers to those credentials (it lists
 * the buckets) before it stores the alias, and exits 1 when it does not; aliases are kept in
 * {@code aliases.properties} under {@code $MC_CONFIG_DIR}, else {@code ~/.mc-standin} (not mc's
 * own {@code config.json}). Requests are path-style with AWS Signature V4, region us-east-1.
 * {@code ls} always lists recursively: one line per object, {@code [time UTC] SIZE KEY} with the
 * key relative to the bucket. {@code rm} removes every object under the prefix, one {@code
 * Removing `ALIAS/BUCKET/KEY`.} line each, and exits 1 when there is none, as mc does
 * (minio/mc cmd/rm-main.go: rmMessage, listAndRemove's ObjectMissing); mc requires both flags
 * for a recursive removal, and so does the stand-in. Anything else exits 2 with a message saying this is a
 * stand-in.
 */
public final class Main {
    private static final String USAGE =
            "this is dataport's test stand-in for mc (MinIO client); it knows only\n"
                    + "  alias set ALIAS URL ACCESS_KEY SECRET_KEY\n"
                    + "  mb [--ignore-existing|-p] ALIAS/BUCKET\n"
                    + "  ls [--recursive|-r] ALIAS/BUCKET[/PREFIX]\n"
                    + "  rm --recursive --force ALIAS/BUCKET/PREFIX";
    private static final DateTimeFormatter TIME =
            DateTimeFormatter.ofPattern("yyyy-MM-dd HH:mm:ss 'UTC'").withZone(ZoneOffset.UTC);

    private final PrintStream out;
    private final PrintStream err;

    private Main(PrintStream out, PrintStream err) {
        this.out = out;
        this.err = err;
    }

    public static void main(String[] args) {
        System.exit(new Main(System.out, System.err).run(List.of(args)));
    }

    /** Exit status: 0 done, 1 the server or the configuration said no (as mc), 2 unsupported. */
    int run(List<String> args) {
        if (args.isEmpty()) {
            return unsupported("no command");
        }
        List<String> rest = args.subList(1, args.size());
        try {
            switch (args.get(0)) {
                case "alias":
                    if (rest.size() == 5 && rest.get(0).equals("set")) {
                        return aliasSet(rest.get(1), rest.get(2), rest.get(3), rest.get(4));
                    }
                    return unsupported("alias " + String.join(" ", rest));
                case "mb":
                    return mb(rest);
                case "ls":
                    return ls(rest);
                case "rm":
                    return rm(rest);
                default:
                    return unsupported(args.get(0));
            }
        } catch (Failure f) {
            err.println("mc-standin: <ERROR> " + f.getMessage());
            return 1;
        }
    }

    private int unsupported(String what) {
        err.println("mc-standin: `" + what + "` is not supported: " + USAGE);
        return 2;
    }

    private int aliasSet(String alias, String url, String accessKey, String secretKey) {
        if (!alias.matches("[A-Za-z0-9_-]+")) {
            throw new Failure("Alias `" + alias + "` is not valid: letters, digits, - and _ only.");
        }
        URI endpoint = endpoint(url);
        try (S3Client s3 = client(endpoint, accessKey, secretKey)) {
            s3.listBuckets();
        } catch (SdkException e) {
            throw new Failure("Unable to initialize new alias from the provided credentials. " + e.getMessage());
        }
        Properties aliases = loadAliases();
        aliases.setProperty(alias + ".url", endpoint.toString());
        aliases.setProperty(alias + ".accessKey", accessKey);
        aliases.setProperty(alias + ".secretKey", secretKey);
        storeAliases(aliases);
        out.println("Added `" + alias + "` successfully.");
        return 0;
    }

    private int mb(List<String> args) {
        boolean ignoreExisting = false;
        List<String> targets = new ArrayList<>();
        for (String a : args) {
            if (a.equals("--ignore-existing") || a.equals("-p")) {
                ignoreExisting = true;
            } else if (a.startsWith("-")) {
                return unsupported("mb " + a);
            } else {
                targets.add(a);
            }
        }
        if (targets.size() != 1) {
            return unsupported("mb " + String.join(" ", args));
        }
        Target t = target(targets.get(0));
        if (!t.prefix.isEmpty()) {
            return unsupported("mb " + targets.get(0) + " (a path below the bucket)");
        }
        try (S3Client s3 = t.client()) {
            try {
                s3.createBucket(b -> b.bucket(t.bucket));
            } catch (BucketAlreadyOwnedByYouException | BucketAlreadyExistsException e) {
                if (!ignoreExisting) {
                    throw new Failure("Unable to make bucket `" + targets.get(0) + "`. " + e.getMessage());
                }
            }
        } catch (SdkException e) {
            throw new Failure("Unable to make bucket `" + targets.get(0) + "`. " + e.getMessage());
        }
        out.println("Bucket created successfully `" + targets.get(0) + "`.");
        return 0;
    }

    private int ls(List<String> args) {
        List<String> targets = new ArrayList<>();
        for (String a : args) {
            if (a.equals("--recursive") || a.equals("-r")) {
                continue; // always recursive
            } else if (a.startsWith("-")) {
                return unsupported("ls " + a);
            } else {
                targets.add(a);
            }
        }
        if (targets.size() != 1) {
            return unsupported("ls " + String.join(" ", args));
        }
        Target t = target(targets.get(0));
        try (S3Client s3 = t.client()) {
            ListObjectsV2Request request = ListObjectsV2Request.builder()
                    .bucket(t.bucket)
                    .prefix(t.prefix.isEmpty() ? null : t.prefix)
                    .build();
            for (S3Object o : s3.listObjectsV2Paginator(request).contents()) {
                out.printf("[%s] %10dB %s%n", TIME.format(o.lastModified()), o.size(), o.key());
            }
        } catch (SdkException e) {
            throw new Failure("Unable to list `" + targets.get(0) + "`. " + e.getMessage());
        }
        return 0;
    }

    private int rm(List<String> args) {
        boolean recursive = false;
        boolean force = false;
        List<String> targets = new ArrayList<>();
        for (String a : args) {
            if (a.equals("--recursive") || a.equals("-r")) {
                recursive = true;
            } else if (a.equals("--force")) {
                force = true;
            } else if (a.startsWith("-")) {
                return unsupported("rm " + a);
            } else {
                targets.add(a);
            }
        }
        if (targets.size() != 1 || !recursive) {
            return unsupported("rm " + String.join(" ", args) + " (only a recursive removal)");
        }
        if (!force) {
            // mc's own refusal of a recursive removal without --force.
            throw new Failure("Removal requires --force flag. This operation is *IRREVERSIBLE*. "
                    + "Please review carefully before performing this *DANGEROUS* operation.");
        }
        Target t = target(targets.get(0));
        if (t.prefix.isEmpty()) {
            return unsupported("rm " + targets.get(0) + " (a whole bucket)");
        }
        String alias = targets.get(0).split("/", 2)[0];
        try (S3Client s3 = t.client()) {
            ListObjectsV2Request request =
                    ListObjectsV2Request.builder().bucket(t.bucket).prefix(t.prefix).build();
            boolean found = false;
            for (S3Object o : s3.listObjectsV2Paginator(request).contents()) {
                found = true;
                out.println("Removing `" + alias + "/" + t.bucket + "/" + o.key() + "`.");
                s3.deleteObject(d -> d.bucket(t.bucket).key(o.key()));
            }
            if (!found) {
                // mc's listAndRemove: nothing under the prefix is an error.
                throw new Failure("Failed to remove `" + targets.get(0) + "`. Object does not exist.");
            }
        } catch (SdkException e) {
            throw new Failure("Failed to remove `" + targets.get(0) + "`. " + e.getMessage());
        }
        return 0;
    }

    /** ALIAS/BUCKET[/PREFIX] with the alias looked up. */
    private Target target(String arg) {
        String[] parts = arg.split("/", 3);
        if (parts.length < 2 || parts[1].isEmpty()) {
            throw new Failure("`" + arg + "` is not ALIAS/BUCKET.");
        }
        Properties aliases = loadAliases();
        String url = aliases.getProperty(parts[0] + ".url");
        if (url == null) {
            throw new Failure("Alias `" + parts[0] + "` is not set (`alias set` it first).");
        }
        return new Target(URI.create(url), aliases.getProperty(parts[0] + ".accessKey"),
                aliases.getProperty(parts[0] + ".secretKey"), parts[1], parts.length == 3 ? parts[2] : "");
    }

    private record Target(URI endpoint, String accessKey, String secretKey, String bucket, String prefix) {
        S3Client client() {
            return Main.client(endpoint, accessKey, secretKey);
        }
    }

    private static URI endpoint(String url) {
        try {
            URI u = new URI(url);
            if (!("http".equals(u.getScheme()) || "https".equals(u.getScheme())) || u.getHost() == null) {
                throw new Failure("`" + url + "` is not an http(s) URL with a host.");
            }
            return u;
        } catch (URISyntaxException e) {
            throw new Failure("`" + url + "` is not a URL: " + e.getMessage());
        }
    }

    /**
     * The endpoint with the first of its host's addresses that accepts a connection, as mc's Go
     * dialer falls back from one resolved address to the next (Go net.Dialer, dialSerial); the
     * JDK's HTTP client would try only the first. A headless Service's name can resolve to several
     * pods (the bucket job's own pod among them). Unchanged when the host has one address or none
     * answers, so the SDK reports the failure itself.
     */
    private static URI reachable(URI endpoint) {
        InetAddress[] addresses;
        try {
            addresses = InetAddress.getAllByName(endpoint.getHost());
        } catch (UnknownHostException e) {
            return endpoint;
        }
        if (addresses.length < 2) {
            return endpoint;
        }
        int port = endpoint.getPort() != -1 ? endpoint.getPort() : "https".equals(endpoint.getScheme()) ? 443 : 80;
        for (InetAddress address : addresses) {
            try (Socket socket = new Socket()) {
                socket.connect(new InetSocketAddress(address, port), 2000);
                return new URI(endpoint.getScheme(), null, address.getHostAddress(), port, endpoint.getPath(),
                        null, null);
            } catch (IOException | URISyntaxException e) {
                // the next address
            }
        }
        return endpoint;
    }

    private static S3Client client(URI endpoint, String accessKey, String secretKey) {
        return S3Client.builder()
                .endpointOverride(reachable(endpoint))
                .region(Region.US_EAST_1)
                .forcePathStyle(true)
                .credentialsProvider(StaticCredentialsProvider.create(AwsBasicCredentials.create(accessKey, secretKey)))
                // S3-compatible servers need not know the SDK's newer default checksums.
                .requestChecksumCalculation(RequestChecksumCalculation.WHEN_REQUIRED)
                .responseChecksumValidation(ResponseChecksumValidation.WHEN_REQUIRED)
                // The caller retries (the bucket job loops on `alias set`), as with mc.
                .overrideConfiguration(o -> o.retryStrategy(DefaultRetryStrategy.doNotRetry())
                        .apiCallTimeout(Duration.ofSeconds(30)))
                .httpClient(UrlConnectionHttpClient.builder()
                        .connectionTimeout(Duration.ofSeconds(5))
                        .socketTimeout(Duration.ofSeconds(20))
                        .build())
                .build();
    }

    private static Path aliasFile() {
        String dir = System.getenv("MC_CONFIG_DIR");
        Path base = dir != null && !dir.isEmpty() ? Path.of(dir) : Path.of(System.getProperty("user.home"), ".mc-standin");
        return base.resolve("aliases.properties");
    }

    private static Properties loadAliases() {
        Properties p = new Properties();
        Path file = aliasFile();
        if (Files.exists(file)) {
            try (InputStream in = Files.newInputStream(file)) {
                p.load(in);
            } catch (IOException e) {
                throw new Failure("Unable to read " + file + ": " + e.getMessage());
            }
        }
        return p;
    }

    /** Written to a temporary file (owner-only: it holds secret keys) and moved into place. */
    private static void storeAliases(Properties aliases) {
        Path file = aliasFile();
        try {
            Files.createDirectories(file.getParent());
            Path tmp = Files.createTempFile(file.getParent(), "aliases", ".tmp",
                    PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rw-------")));
            try (OutputStream o = Files.newOutputStream(tmp)) {
                aliases.store(o, "mc-standin aliases");
            }
            Files.move(tmp, file, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
        } catch (IOException e) {
            throw new Failure("Unable to write " + file + ": " + e.getMessage());
        }
    }

    /** A refusal reported as mc reports one: a message and exit status 1. */
    private static final class Failure extends RuntimeException {
        Failure(String message) {
            super(message);
        }
    }
}
