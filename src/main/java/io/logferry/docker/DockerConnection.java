package io.logferry.docker;

import com.github.dockerjava.api.DockerClient;
import com.github.dockerjava.core.DefaultDockerClientConfig;
import com.github.dockerjava.core.DockerClientImpl;
import com.github.dockerjava.httpclient5.ApacheDockerHttpClient;
import io.logferry.config.Config;

import java.nio.file.Path;
import java.time.Duration;

/** Builds the Docker API client for {@code docker.host}: a unix socket, or tcp/https (a socket proxy), with TLS. */
public final class DockerConnection {
    private DockerConnection() { }

    public static DockerClient connect(Config.Docker d) {
        String host = d.host().startsWith("https://") ? "tcp://" + d.host().substring("https://".length()) : d.host();
        DefaultDockerClientConfig.Builder cfg = DefaultDockerClientConfig.createDefaultConfigBuilder()
                .withDockerHost(host)
                .withDockerTlsVerify(false);
        boolean tls = d.host().startsWith("https://") || !d.tlsCaFile().isEmpty();
        if (tls) {
            // docker-java reads ca.pem, cert.pem and key.pem from one directory
            Path dir = Path.of(d.tlsCaFile().isEmpty() ? d.tlsCertFile() : d.tlsCaFile()).toAbsolutePath().getParent();
            cfg.withDockerTlsVerify(d.tlsVerify() != Config.TlsVerify.NONE).withDockerCertPath(dir.toString());
        }
        DefaultDockerClientConfig config = cfg.build();
        ApacheDockerHttpClient.Builder http = new ApacheDockerHttpClient.Builder()
                .dockerHost(config.getDockerHost())
                .maxConnections(64)
                .connectionTimeout(Duration.ofSeconds(5));
        if (tls) {
            http.sslConfig(config.getSSLConfig());
        }
        return DockerClientImpl.getInstance(config, http.build());
    }
}
