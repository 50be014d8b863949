package io.logferry.elasticsearch;

import io.logferry.config.Config;
import org.apache.http.Header;
import org.apache.http.HttpHost;
import org.apache.http.message.BasicHeader;
import org.apache.http.ssl.SSLContextBuilder;
import org.elasticsearch.client.Node;
import org.elasticsearch.client.RestClient;
import org.elasticsearch.client.RestClientBuilder;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import javax.net.ssl.SSLContext;
import javax.net.ssl.TrustManager;
import javax.net.ssl.X509TrustManager;
import java.io.InputStream;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.KeyStore;
import java.security.MessageDigest;
import java.security.cert.Certificate;
import java.security.cert.CertificateException;
import java.security.cert.CertificateFactory;
import java.security.cert.X509Certificate;
import java.util.ArrayList;
import java.util.Base64;
import java.util.HexFormat;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

/**
 * Builds the low-level REST client from the config: hosts, basic auth or API key, TLS.
 *
 * <p>Failover between {@code elasticsearch.hosts} is the client's: requests go round-robin to the
 * hosts; a host that fails (no connection, a timeout, or 502/503/504) is marked dead and the same
 * request is sent at once to the next host; a dead host gets a request again after 1 min (then
 * longer, up to 30 min, while it keeps failing), and is alive again as soon as one succeeds. When
 * every host is dead, the one that has been dead longest is tried. The failure listener below logs
 * each host that is marked dead, at most once per {@link #LOG_EVERY} per host.
 */
public final class EsConnection {
    private static final Logger log = LoggerFactory.getLogger(EsConnection.class);
    private static final Duration LOG_EVERY = Duration.ofSeconds(30);

    private EsConnection() { }

    public static RestClient build(Config.Elasticsearch es) throws Exception {
        return build(es, 0);
    }

    /**
     * @param ioThreads the client's I/O dispatcher threads, 0 for the client's default (one per
     *     core): the probe's one request every few seconds needs one (each dispatcher wakes once a
     *     second to check its timeouts, also at idle)
     */
    public static RestClient build(Config.Elasticsearch es, int ioThreads) throws Exception {
        List<HttpHost> hosts = new ArrayList<>();
        for (String h : es.hosts()) {
            URI u = URI.create(h);
            int port = u.getPort() > 0 ? u.getPort() : 9200;
            hosts.add(new HttpHost(u.getHost(), port, u.getScheme()));
        }
        RestClientBuilder b = RestClient.builder(hosts.toArray(HttpHost[]::new));
        String prefix = pathPrefix(es.hosts());
        if (!prefix.isEmpty()) {
            // Elasticsearch behind a gateway at https://gw/elastic: every request goes to /elastic/...
            b.setPathPrefix(prefix);
        }
        List<Header> headers = new ArrayList<>();
        String authorization = authorization(es);
        if (authorization != null) {
            headers.add(new BasicHeader("Authorization", authorization));
        }
        b.setDefaultHeaders(headers.toArray(Header[]::new));
        b.setFailureListener(new HostFailures(hosts.size()));
        int timeoutMs = (int) Math.min(Integer.MAX_VALUE, es.timeout().toMillis());
        b.setRequestConfigCallback(rc -> rc.setConnectTimeout(5000).setSocketTimeout(timeoutMs).setConnectionRequestTimeout(timeoutMs));
        SSLContext ssl = sslContext(es);
        HttpHost proxy = es.proxyUrl().isEmpty() ? null : proxyHost(es.proxyUrl());
        String proxyUser = es.proxyUrl().isEmpty() ? null : URI.create(es.proxyUrl()).getUserInfo();
        b.setHttpClientConfigCallback(hc -> {
            hc.setMaxConnTotal(64).setMaxConnPerRoute(32);
            if (ioThreads > 0) {
                hc.setDefaultIOReactorConfig(org.apache.http.impl.nio.reactor.IOReactorConfig.custom().setIoThreadCount(ioThreads).build());
            }
            if (proxy != null) {
                hc.setProxy(proxy);
                if (proxyUser != null && proxyUser.indexOf(':') > 0) {
                    org.apache.http.impl.client.BasicCredentialsProvider credentials = new org.apache.http.impl.client.BasicCredentialsProvider();
                    credentials.setCredentials(new org.apache.http.auth.AuthScope(proxy),
                            new org.apache.http.auth.UsernamePasswordCredentials(proxyUser.substring(0, proxyUser.indexOf(':')),
                                    proxyUser.substring(proxyUser.indexOf(':') + 1)));
                    hc.setDefaultCredentialsProvider(credentials);
                }
            }
            if (ssl != null) {
                hc.setSSLContext(ssl);
                if (es.tlsVerify() != Config.TlsVerify.FULL) {
                    hc.setSSLHostnameVerifier((host, session) -> true);
                }
            }
            return hc;
        });
        return b.build();
    }

    /** Logs a host that the client marks dead, and where the requests go instead. */
    private static final class HostFailures extends RestClient.FailureListener {
        private final int hosts;
        private final Map<HttpHost, Long> lastLogged = new ConcurrentHashMap<>();

        HostFailures(int hosts) {
            this.hosts = hosts;
        }

        @Override
        public void onFailure(Node node) {
            long now = System.nanoTime();
            boolean[] due = {false};
            lastLogged.compute(node.getHost(), (h, last) -> {
                due[0] = last == null || now - last >= LOG_EVERY.toNanos();
                return due[0] ? Long.valueOf(now) : last;
            });
            if (!due[0]) {
                return;
            }
            if (hosts > 1) {
                log.warn("elasticsearch host {} failed and is marked dead; requests go to the other {} host(s), and {} is tried again in 1 min or later",
                        node.getHost(), hosts - 1, node.getHost());
            } else {
                log.warn("elasticsearch host {} failed (the only host configured)", node.getHost());
            }
        }
    }

    /**
     * The path the hosts share ({@code /elastic} of {@code https://gw/elastic/}), without a trailing slash;
     * empty for none. The config refuses hosts with different paths (one client has one prefix).
     */
    public static String pathPrefix(List<String> hosts) {
        String prefix = "";
        for (String h : hosts) {
            String p = URI.create(h).getRawPath();
            p = p == null ? "" : p.replaceAll("/+$", "");
            prefix = p;
        }
        return prefix;
    }

    /**
     * The {@code Authorization} header value: {@code ApiKey ...} (wins), {@code Basic ...}, or null. An API key
     * given as Filebeat takes it, {@code id:api_key}, is encoded as Elasticsearch wants it (base64 of that);
     * the encoded form (what the create-API-key call returns as {@code encoded}) has no colon and is sent as it is.
     */
    public static String authorization(Config.Elasticsearch es) {
        if (!es.apiKey().isEmpty()) {
            String key = es.apiKey().trim();
            return "ApiKey " + (key.indexOf(':') > 0 ? Base64.getEncoder().encodeToString(key.getBytes(StandardCharsets.UTF_8)) : key);
        }
        if (!es.username().isEmpty()) {
            return "Basic " + Base64.getEncoder().encodeToString((es.username() + ":" + es.password()).getBytes(StandardCharsets.UTF_8));
        }
        return null;
    }

    /**
     * The CA whose SHA-256 fingerprint is {@code want} must be in the chain the server presents, and
     * the chain must be valid under that CA as its only trust anchor (signatures, validity): finding
     * the fingerprint alone is not enough, since a CA certificate is public and anyone can append it
     * to a chain of their own. Host names are checked afterwards by the client, as with a CA file.
     */
    static boolean trustedByFingerprint(X509Certificate[] chain, String authType, String want) throws CertificateException {
        for (X509Certificate c : chain) {
            String got;
            try {
                got = HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(c.getEncoded()));
            } catch (java.security.NoSuchAlgorithmException e) {
                throw new CertificateException(e);
            }
            if (!got.equals(want)) {
                continue;
            }
            try {
                KeyStore ks = KeyStore.getInstance(KeyStore.getDefaultType());
                ks.load(null, null);
                ks.setCertificateEntry("ca", c);
                javax.net.ssl.TrustManagerFactory tmf = javax.net.ssl.TrustManagerFactory.getInstance("PKIX");
                tmf.init(ks);
                for (TrustManager tm : tmf.getTrustManagers()) {
                    if (tm instanceof X509TrustManager x) {
                        x.checkServerTrusted(chain, authType);
                        return true;
                    }
                }
            } catch (CertificateException e) {
                throw new CertificateException("the server's chain holds the CA with fingerprint " + want
                        + " but is not valid under it: " + e.getMessage(), e);
            } catch (Exception e) {
                throw new CertificateException(e);
            }
        }
        throw new CertificateException("no certificate in the server's chain has the SHA-256 fingerprint " + want);
    }

    /** The proxy of {@code elasticsearch.proxy_url} (port 80 or 443 by its scheme when none is given). */
    static HttpHost proxyHost(String url) {
        URI u = URI.create(url);
        return new HttpHost(u.getHost(), u.getPort() > 0 ? u.getPort() : "https".equals(u.getScheme()) ? 443 : 80, u.getScheme());
    }

    /**
     * The TLS context of the settings: whom to trust (none, a CA file, a CA fingerprint, or the JVM's
     * default CAs) and, for mutual TLS, the client certificate and key. Null when the JVM's defaults do.
     */
    static SSLContext sslContext(Config.Elasticsearch es) throws Exception {
        boolean clientCert = !es.tlsCertFile().isEmpty();
        if (es.tlsVerify() != Config.TlsVerify.NONE && es.tlsCaFile().isEmpty() && es.tlsCaFingerprint().isEmpty() && !clientCert) {
            return null;
        }
        SSLContextBuilder b = SSLContextBuilder.create();
        if (es.tlsVerify() == Config.TlsVerify.NONE) {
            b.loadTrustMaterial(null, (chain, auth) -> true);
        } else if (!es.tlsCaFile().isEmpty()) {
            KeyStore ks = KeyStore.getInstance(KeyStore.getDefaultType());
            ks.load(null, null);
            try (InputStream in = Files.newInputStream(Path.of(es.tlsCaFile()))) {
                int i = 0;
                for (Certificate c : CertificateFactory.getInstance("X.509").generateCertificates(in)) {
                    ks.setCertificateEntry("ca" + i++, c);
                }
            }
            b.loadTrustMaterial(ks, null);
        } else if (!es.tlsCaFingerprint().isEmpty()) {
            String want = es.tlsCaFingerprint().replace(":", "").toLowerCase();
            b.loadTrustMaterial(null, (chain, auth) -> trustedByFingerprint(chain, auth, want));
        }
        if (clientCert) {
            char[] none = new char[0];
            b.loadKeyMaterial(ClientCertificate.keyStore(Path.of(es.tlsCertFile()), Path.of(es.tlsKeyFile()), none), none);
        }
        return b.build();
    }
}
