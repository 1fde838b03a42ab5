//! What a stock image lacks, made solvable by the user: a custom image, or
//! extra libraries (jars at https URLs the user gives, each with an optional
//! sha256) that an init container fetches into the image's library folder.
//! dataport never chooses a host to download from.

use k8s_openapi::api::core::v1::{
    Capabilities, Container, EmptyDirVolumeSource, SecurityContext, Volume, VolumeMount,
};

/// The image that fetches extra libraries: the curl project's own image
/// (curl/curl-container, `create_appliance_image.sh`: Alpine with curl and
/// busybox's `sha256sum`, user `curl_user`, licence label MIT), at a fixed
/// release tag.
pub const FETCH_IMAGE: &str = "curlimages/curl:8.11.1";

/// Most libraries one instance fetches.
pub const MAX_LIBRARIES: usize = 20;

/// The volume the init container fills and the main container reads.
const VOLUME: &str = "extra-libraries";
const FETCH_DIR: &str = "/extra-libraries";

/// One jar to fetch.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Library {
    /// Where it is fetched from, without the `#sha256=` fragment (https only).
    pub url: String,
    /// Its file name: the URL path's last segment, ending in `.jar`.
    pub file: String,
    /// Its expected SHA-256 (64 lowercase hex digits), if given.
    pub sha256: Option<String>,
}

/// The libraries listed in `text`: https URLs of jars separated by commas,
/// spaces or new lines, each optionally ending in `#sha256=<64 hex digits>`.
///
/// # Errors
/// The first entry that is not such a URL, a file name given twice, or more
/// than [`MAX_LIBRARIES`], as a sentence for the field.
pub fn parse(text: &str) -> Result<Vec<Library>, String> {
    let mut libraries: Vec<Library> = Vec::new();
    for entry in text
        .split(|c: char| c == ',' || c.is_whitespace())
        .filter(|e| !e.is_empty())
    {
        let library = parse_one(entry)?;
        if libraries.iter().any(|l| l.file == library.file) {
            return Err(format!("{} is listed twice", library.file));
        }
        libraries.push(library);
    }
    if libraries.len() > MAX_LIBRARIES {
        return Err(format!("At most {MAX_LIBRARIES} libraries"));
    }
    Ok(libraries)
}

fn parse_one(entry: &str) -> Result<Library, String> {
    let refuse = |why: &str| Err(format!("{entry:?}: {why}"));
    let (url, fragment) = match entry.split_once('#') {
        Some((url, fragment)) => (url, Some(fragment)),
        None => (entry, None),
    };
    let Some(rest) = url.strip_prefix("https://") else {
        return refuse("give an https:// URL of a jar");
    };
    // The URL reaches the init container as an argument, never through a
    // shell; still, keep it to the characters URLs are made of.
    if !url
        .bytes()
        .all(|b| b.is_ascii_alphanumeric() || b"-._~:/?[]@!$&'()*+;=%".contains(&b))
        || url.contains('\'')
    {
        return refuse("a URL has no spaces, quotes or other characters outside RFC 3986");
    }
    let path = rest.split(['?']).next().unwrap_or("");
    let Some((host, path)) = path.split_once('/') else {
        return refuse("the URL names no file");
    };
    if host.is_empty() {
        return refuse("the URL names no host");
    }
    let file = path.rsplit('/').next().unwrap_or("");
    if !file.ends_with(".jar")
        || file.len() <= 4
        || !file
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"._+-".contains(&b))
    {
        return refuse("the URL's last path segment must be a jar file name (….jar)");
    }
    let sha256 = match fragment {
        None => None,
        Some(fragment) => match fragment.strip_prefix("sha256=") {
            Some(hex) if hex.len() == 64 && hex.bytes().all(|b| b.is_ascii_hexdigit()) => {
                Some(hex.to_ascii_lowercase())
            }
            _ => return refuse("a checksum is written #sha256=<64 hex digits>"),
        },
    };
    Ok(Library {
        url: url.to_owned(),
        file: file.to_owned(),
        sha256,
    })
}

/// Why `image` cannot be run as a custom image, if it cannot: it must name
/// one fixed build, with a tag other than `latest` or a digest.
pub fn image_error(image: &str) -> Option<String> {
    let valid_chars = image
        .bytes()
        .all(|b| b.is_ascii_alphanumeric() || b"./:_@-".contains(&b));
    if !valid_chars || image.starts_with(['.', '-', '/', ':']) {
        return Some(format!("{image:?} is not an image reference"));
    }
    if image.contains("@sha256:") {
        return None;
    }
    let last = image.rsplit('/').next().unwrap_or(image);
    match last.split_once(':') {
        None => Some(format!(
            "{image:?} has no tag: name a fixed release, e.g. {image}:1.20.5"
        )),
        Some((_, "latest")) => Some(format!(
            "{image:?} moves with every push: name a fixed release tag or a digest"
        )),
        Some((_, "")) => Some(format!("{image:?} has an empty tag")),
        Some(_) => None,
    }
}

/// The init container fetching `libraries` (checking each given checksum),
/// the volume it fills, and the main container's mounts of each jar into
/// `lib_dir` (each file on its own, so the image's own jars stay). Empty
/// when there are no libraries.
pub fn fetch(
    libraries: &[Library],
    lib_dir: &str,
) -> Option<(Container, Volume, Vec<VolumeMount>)> {
    if libraries.is_empty() {
        return None;
    }
    // Pairs of URL and checksum (`-` for none) as arguments of a fixed script.
    let mut args = vec!["fetch".to_owned()];
    for library in libraries {
        args.push(library.url.clone());
        args.push(library.sha256.clone().unwrap_or_else(|| "-".into()));
    }
    let script = format!(
        "set -eu; cd {FETCH_DIR}; while [ $# -gt 0 ]; do url=$1; sum=$2; shift 2; \
         file=${{url##*/}}; file=${{file%%\\?*}}; \
         curl --fail --silent --show-error --location --proto =https --retry 3 -o \"$file\" \"$url\"; \
         if [ \"$sum\" != - ]; then echo \"$sum  $file\" | sha256sum -c -; fi; done"
    );
    let mut command = vec!["sh".to_owned(), "-c".to_owned(), script];
    command.extend(args);
    let container = Container {
        name: "fetch-libraries".into(),
        image: Some(FETCH_IMAGE.into()),
        command: Some(command),
        volume_mounts: Some(vec![VolumeMount {
            name: VOLUME.into(),
            mount_path: FETCH_DIR.into(),
            ..VolumeMount::default()
        }]),
        security_context: Some(SecurityContext {
            allow_privilege_escalation: Some(false),
            capabilities: Some(Capabilities {
                drop: Some(vec!["ALL".into()]),
                ..Capabilities::default()
            }),
            ..SecurityContext::default()
        }),
        ..Container::default()
    };
    let volume = Volume {
        name: VOLUME.into(),
        empty_dir: Some(EmptyDirVolumeSource::default()),
        ..Volume::default()
    };
    let mounts = libraries
        .iter()
        .map(|library| VolumeMount {
            name: VOLUME.into(),
            mount_path: format!("{lib_dir}/{}", library.file),
            sub_path: Some(library.file.clone()),
            read_only: Some(true),
            ..VolumeMount::default()
        })
        .collect();
    Some((container, volume, mounts))
}

/// The MySQL JDBC driver dataport names: MySQL's Connector/J
/// (com.mysql:mysql-connector-j), of the MySQL 8.4 line dataport offers.
pub const MYSQL_DRIVER_JAR: &str = "mysql-connector-j-8.4.0.jar";

/// Rules for an app whose stock image `stock` lacks the MySQL JDBC driver:
/// the `image` and `extraLibraries` fields are well formed, and with the
/// stock image the driver is among the libraries (refused at
/// `extraLibraries`, naming the jar).
pub fn mysql_driver_rules(
    values: &crate::catalog::Values,
    stock: &str,
) -> crate::catalog::FieldErrors {
    let mut errors = crate::catalog::FieldErrors::new();
    let text = |key: &str| {
        values
            .get(key)
            .and_then(serde_json::Value::as_str)
            .unwrap_or("")
            .trim()
    };
    let image = text("image");
    if !image.is_empty()
        && let Some(error) = image_error(image)
    {
        errors.insert("image".into(), error);
    }
    match parse(text("extraLibraries")) {
        Err(error) => {
            errors.insert("extraLibraries".into(), error);
        }
        Ok(listed)
            if image.is_empty()
                && !listed.iter().any(|l| {
                    l.file.starts_with("mysql-connector-j-")
                        || l.file.starts_with("mysql-connector-java-")
                }) =>
        {
            errors.insert(
                "extraLibraries".into(),
                format!(
                    "The stock image {stock} has no MySQL JDBC driver: add {MYSQL_DRIVER_JAR} \
                     (Maven com.mysql:mysql-connector-j:8.4.0) here, or give an image that has it"
                ),
            );
        }
        Ok(_) => {}
    }
    errors
}

/// Whether `libraries` bring Hadoop's client classes: Hadoop 3's shaded
/// client (`hadoop-client-api-*.jar` and `hadoop-client-runtime-*.jar`) or
/// Flink's old shaded Hadoop uber jar (`flink-shaded-hadoop-*.jar`).
pub fn has_hadoop(libraries: &[Library]) -> bool {
    let has = |prefix: &str| libraries.iter().any(|l| l.file.starts_with(prefix));
    (has("hadoop-client-api-") && has("hadoop-client-runtime-")) || has("flink-shaded-hadoop-")
}

/// The Hadoop client jars dataport names for HDFS: Hadoop 3's shaded client
/// of the newest HDFS dataport offers (org.apache.hadoop:hadoop-client-api and
/// hadoop-client-runtime).
pub const HADOOP_JARS: &str = "hadoop-client-api-3.4.1.jar and hadoop-client-runtime-3.4.1.jar \
    (Maven org.apache.hadoop)";

#[cfg(test)]
mod tests {
    use super::*;

    const SUM: &str = "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef";

    #[test]
    fn urls_with_and_without_checksums_are_read() {
        let text = format!(
            "https://repo.example/a/hadoop-client-api-3.4.1.jar#sha256={SUM},\n \
             https://repo.example/b/x_2.12-1.0.jar?download=1"
        );
        let libraries = parse(&text).unwrap();
        assert_eq!(
            libraries,
            [
                Library {
                    url: "https://repo.example/a/hadoop-client-api-3.4.1.jar".into(),
                    file: "hadoop-client-api-3.4.1.jar".into(),
                    sha256: Some(SUM.into()),
                },
                Library {
                    url: "https://repo.example/b/x_2.12-1.0.jar?download=1".into(),
                    file: "x_2.12-1.0.jar".into(),
                    sha256: None,
                },
            ]
        );
        assert_eq!(parse("").unwrap(), []);
    }

    #[test]
    fn what_is_not_an_https_jar_is_refused_with_the_reason() {
        for (text, reason) in [
            ("http://repo.example/a.jar", "https://"),
            ("https://repo.example/a.zip", "jar file name"),
            ("https:///a.jar", "no host"),
            ("https://repo.example/a.jar#sha256=abc", "64 hex digits"),
            ("https://repo.example/a\".jar", "RFC 3986"),
            ("https://repo.example/$(id).jar", "jar file name"),
            (
                "https://a.example/x.jar https://b.example/x.jar",
                "listed twice",
            ),
        ] {
            let error = parse(text).unwrap_err();
            assert!(error.contains(reason), "{text}: {error}");
        }
    }

    #[test]
    fn custom_images_name_a_fixed_build() {
        for image in ["flink", "repo.example/flink:latest", "flink:", "fl ink:1"] {
            assert!(image_error(image).is_some(), "{image}");
        }
        for image in [
            "repo.example:5000/team/flink-hive:1.20.5-1",
            "flink@sha256:0123",
        ] {
            assert_eq!(image_error(image), None, "{image}");
        }
    }

    #[test]
    fn the_init_container_fetches_each_jar_into_the_folder_with_its_checksum() {
        let libraries = parse(&format!(
            "https://repo.example/a.jar#sha256={SUM} https://repo.example/b.jar"
        ))
        .unwrap();
        let (container, volume, mounts) = fetch(&libraries, "/opt/flink/lib").unwrap();
        assert_eq!(container.image.as_deref(), Some(FETCH_IMAGE));
        let command = container.command.unwrap();
        assert_eq!(
            command[3..],
            [
                "fetch",
                "https://repo.example/a.jar",
                SUM,
                "https://repo.example/b.jar",
                "-"
            ]
        );
        assert!(command[2].contains("sha256sum -c"));
        assert!(volume.empty_dir.is_some());
        let paths: Vec<_> = mounts.iter().map(|m| m.mount_path.as_str()).collect();
        assert_eq!(paths, ["/opt/flink/lib/a.jar", "/opt/flink/lib/b.jar"]);
        assert_eq!(mounts[0].sub_path.as_deref(), Some("a.jar"));
        assert!(fetch(&[], "/opt/flink/lib").is_none());
    }

    #[test]
    fn hadoop_takes_both_shaded_client_jars_or_the_uber_jar() {
        let named = |files: &[&str]| -> Vec<Library> {
            files
                .iter()
                .map(|f| Library {
                    url: format!("https://r.example/{f}"),
                    file: (*f).into(),
                    sha256: None,
                })
                .collect()
        };
        assert!(!has_hadoop(&named(&["hadoop-client-api-3.4.1.jar"])));
        assert!(has_hadoop(&named(&[
            "hadoop-client-api-3.4.1.jar",
            "hadoop-client-runtime-3.4.1.jar"
        ])));
        assert!(has_hadoop(&named(&[
            "flink-shaded-hadoop-2-uber-2.8.3-10.0.jar"
        ])));
    }
}
