package local.dataport.podaddress;

import com.sun.net.httpserver.HttpContext;
import com.sun.net.httpserver.HttpHandler;
import com.sun.net.httpserver.HttpServer;
import com.sun.net.httpserver.HttpsServer;
import com.sun.net.httpserver.spi.HttpServerProvider;
import java.io.IOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.UnknownHostException;
import java.util.concurrent.Executor;

/**
 * The JDK's HTTP server, bound to the pod's IP where a caller asks for the wildcard address.
 *
 * <p>Why it exists: dataport's process node runs every pod of a Flink cluster as processes of one
 * machine, each pod on a loopback address of its own (127.x.y.z) instead of a network namespace.
 * Flink's Prometheus reporter serves its metrics with simpleclient_httpserver 0.8.1's {@code
 * HTTPServer} on {@code new InetSocketAddress(port)}, the wildcard address (apache/flink
 * release-1.20.0 and release-2.0.0, flink-metrics/flink-metrics-prometheus {@code
 * PrometheusReporter}; the plugin jar bundles {@code io.prometheus.client.exporter.HTTPServer},
 * which calls {@code com.sun.net.httpserver.HttpServer.create(InetSocketAddress, int)}). In a pod
 * that wildcard is the pod's own; on one machine the second pod's reporter finds port 9249 taken
 * and Flink logs "Could not instantiate MetricReporter prom". The JDK picks the provider of {@code
 * HttpServer.create} from the system property {@code com.sun.net.httpserver.HttpServerProvider}
 * (module jdk.httpserver, {@code HttpServerProvider.provider()}), so the node names this class
 * there and gives the pod's IP as {@link #POD_IP}: every server of that JVM asking for {@code
 * 0.0.0.0:port} then listens on {@code podIP:port}, as in the pod's own network namespace. A
 * server asking for a specific address gets that address. The servers themselves are the JDK's
 * ({@code sun.net.httpserver.DefaultHttpServerProvider}, reached with {@code --add-exports
 * jdk.httpserver/sun.net.httpserver=ALL-UNNAMED}, which the node also gives).
 */
public final class PodAddressHttpServerProvider extends HttpServerProvider {
    /** The system property holding the pod's IP, e.g. {@code 127.23.0.5}. */
    public static final String POD_IP = "dataport.pod.ip";

    private final HttpServerProvider jdk = new sun.net.httpserver.DefaultHttpServerProvider();
    private final InetAddress podIp;

    /**
     * Reads the pod's IP from {@link #POD_IP}.
     *
     * @throws IllegalStateException when the property is unset or not an IP address
     */
    public PodAddressHttpServerProvider() {
        String ip = System.getProperty(POD_IP, "");
        if (ip.isEmpty()) {
            throw new IllegalStateException(
                    "the system property " + POD_IP + " (the pod's IP) is not set");
        }
        try {
            podIp = InetAddress.getByName(ip);
        } catch (UnknownHostException e) {
            throw new IllegalStateException(POD_IP + "=" + ip + " is not an IP address", e);
        }
    }

    /** {@code address} with the pod's IP in place of the wildcard; {@code null} stays unbound. */
    InetSocketAddress onPod(InetSocketAddress address) {
        if (address == null) {
            return null;
        }
        InetAddress host = address.getAddress();
        if (host == null || host.isAnyLocalAddress()) {
            return new InetSocketAddress(podIp, address.getPort());
        }
        return address;
    }

    @Override
    public HttpServer createHttpServer(InetSocketAddress address, int backlog) throws IOException {
        return new OnPod(jdk.createHttpServer(onPod(address), backlog));
    }

    @Override
    public HttpsServer createHttpsServer(InetSocketAddress address, int backlog)
            throws IOException {
        return jdk.createHttpsServer(onPod(address), backlog);
    }

    /** The JDK's server, whose later {@link #bind} also moves the wildcard to the pod's IP. */
    private final class OnPod extends HttpServer {
        private final HttpServer server;

        OnPod(HttpServer server) {
            this.server = server;
        }

        @Override
        public void bind(InetSocketAddress address, int backlog) throws IOException {
            server.bind(onPod(address), backlog);
        }

        @Override
        public void start() {
            server.start();
        }

        @Override
        public void setExecutor(Executor executor) {
            server.setExecutor(executor);
        }

        @Override
        public Executor getExecutor() {
            return server.getExecutor();
        }

        @Override
        public void stop(int delay) {
            server.stop(delay);
        }

        @Override
        public HttpContext createContext(String path, HttpHandler handler) {
            return server.createContext(path, handler);
        }

        @Override
        public HttpContext createContext(String path) {
            return server.createContext(path);
        }

        @Override
        public void removeContext(String path) {
            server.removeContext(path);
        }

        @Override
        public void removeContext(HttpContext context) {
            server.removeContext(context);
        }

        @Override
        public InetSocketAddress getAddress() {
            return server.getAddress();
        }
    }
}
