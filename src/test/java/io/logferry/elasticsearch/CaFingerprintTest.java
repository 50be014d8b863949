package io.logferry.elasticsearch;

import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.security.cert.CertificateException;
import java.security.cert.CertificateFactory;
import java.security.cert.X509Certificate;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/**
 * {@code elasticsearch.tls.ca_fingerprint}: the CA must be in the presented chain and the chain
 * valid under it. Certificates made with the JDK's keytool: two CAs and a leaf of each.
 */
class CaFingerprintTest {
    @TempDir
    static Path dir;
    private static X509Certificate ca1;
    private static X509Certificate leaf1;
    private static X509Certificate leaf2;

    @BeforeAll
    static void makeCertificates() throws Exception {
        for (String ca : List.of("ca1", "ca2")) {
            keytool("-genkeypair", "-alias", ca, "-keyalg", "EC", "-groupname", "secp256r1", "-dname", "CN=" + ca,
                    "-ext", "bc:c", "-validity", "3");
        }
        for (String n : List.of("1", "2")) {
            keytool("-genkeypair", "-alias", "leaf" + n, "-keyalg", "EC", "-groupname", "secp256r1", "-dname", "CN=localhost", "-validity", "3");
            keytool("-certreq", "-alias", "leaf" + n, "-file", dir.resolve("leaf" + n + ".csr").toString());
            keytool("-gencert", "-alias", "ca" + n, "-infile", dir.resolve("leaf" + n + ".csr").toString(),
                    "-outfile", dir.resolve("leaf" + n + ".crt").toString(), "-rfc", "-validity", "2");
        }
        keytool("-exportcert", "-alias", "ca1", "-rfc", "-file", dir.resolve("ca1.crt").toString());
        ca1 = cert("ca1.crt");
        leaf1 = cert("leaf1.crt");
        leaf2 = cert("leaf2.crt");
    }

    private static void keytool(String... args) throws IOException, InterruptedException {
        List<String> cmd = new ArrayList<>(List.of(Path.of(System.getProperty("java.home"), "bin", "keytool").toString()));
        cmd.addAll(List.of(args));
        cmd.addAll(List.of("-keystore", dir.resolve("ks.p12").toString(), "-storepass", "changeit", "-noprompt"));
        Process p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
        String out = new String(p.getInputStream().readAllBytes());
        if (!p.waitFor(60, TimeUnit.SECONDS) || p.exitValue() != 0) {
            throw new IOException(String.join(" ", cmd) + ": " + out);
        }
    }

    private static X509Certificate cert(String name) throws Exception {
        try (InputStream in = Files.newInputStream(dir.resolve(name))) {
            return (X509Certificate) CertificateFactory.getInstance("X.509").generateCertificate(in);
        }
    }

    private static String fingerprint(X509Certificate c) throws Exception {
        return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(c.getEncoded()));
    }

    @Test
    void aChainSignedByTheCaWithThatFingerprintIsTrusted() throws Exception {
        assertThat(EsConnection.trustedByFingerprint(new X509Certificate[] {leaf1, ca1}, "ECDHE_ECDSA", fingerprint(ca1))).isTrue();
    }

    @Test
    void theCaAppendedToSomeoneElsesChainIsNotEnough() throws Exception {
        assertThatThrownBy(() -> EsConnection.trustedByFingerprint(new X509Certificate[] {leaf2, ca1}, "ECDHE_ECDSA", fingerprint(ca1)))
                .isInstanceOf(CertificateException.class).hasMessageContaining("not valid under it");
    }

    @Test
    void aChainWithoutThatCaIsRefused() throws Exception {
        assertThatThrownBy(() -> EsConnection.trustedByFingerprint(new X509Certificate[] {leaf1}, "ECDHE_ECDSA", fingerprint(ca1)))
                .isInstanceOf(CertificateException.class).hasMessageContaining("no certificate in the server's chain");
    }
}
