package io.logferry.elasticsearch;

import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.GeneralSecurityException;
import java.security.KeyFactory;
import java.security.KeyStore;
import java.security.PrivateKey;
import java.security.cert.Certificate;
import java.security.cert.CertificateFactory;
import java.security.spec.PKCS8EncodedKeySpec;
import java.util.Base64;
import java.util.List;

/**
 * A client certificate for mutual TLS from PEM files as Elastic's tools write them: the certificate
 * (and its chain) and an unencrypted PKCS#8 private key ({@code BEGIN PRIVATE KEY}), RSA or EC. A
 * PKCS#1 key ({@code BEGIN RSA PRIVATE KEY}) is refused with the command that converts it.
 */
final class ClientCertificate {
    private ClientCertificate() {
    }

    /** A key store holding the key and its chain under the alias {@code client}, protected by {@code password}. */
    static KeyStore keyStore(Path certFile, Path keyFile, char[] password) throws IOException, GeneralSecurityException {
        List<? extends Certificate> chain;
        try (InputStream in = Files.newInputStream(certFile)) {
            chain = List.copyOf(CertificateFactory.getInstance("X.509").generateCertificates(in));
        }
        if (chain.isEmpty()) {
            throw new GeneralSecurityException(certFile + " holds no certificate");
        }
        PrivateKey key = privateKey(Files.readString(keyFile, StandardCharsets.US_ASCII), keyFile);
        KeyStore ks = KeyStore.getInstance("PKCS12");
        ks.load(null, null);
        ks.setKeyEntry("client", key, password, chain.toArray(Certificate[]::new));
        return ks;
    }

    static PrivateKey privateKey(String pem, Path from) throws GeneralSecurityException {
        if (pem.contains("-----BEGIN RSA PRIVATE KEY-----") || pem.contains("-----BEGIN EC PRIVATE KEY-----")
                || pem.contains("-----BEGIN ENCRYPTED PRIVATE KEY-----")) {
            throw new GeneralSecurityException(from + " is not an unencrypted PKCS#8 key; convert it with"
                    + " 'openssl pkcs8 -topk8 -nocrypt -in " + from + " -out key.pem'");
        }
        int begin = pem.indexOf("-----BEGIN PRIVATE KEY-----");
        int end = pem.indexOf("-----END PRIVATE KEY-----");
        if (begin < 0 || end < begin) {
            throw new GeneralSecurityException(from + " holds no '-----BEGIN PRIVATE KEY-----' block");
        }
        byte[] der = Base64.getMimeDecoder().decode(pem.substring(begin + "-----BEGIN PRIVATE KEY-----".length(), end));
        PKCS8EncodedKeySpec spec = new PKCS8EncodedKeySpec(der);
        for (String algorithm : new String[] {"RSA", "EC", "Ed25519"}) {
            try {
                return KeyFactory.getInstance(algorithm).generatePrivate(spec);
            } catch (java.security.spec.InvalidKeySpecException e) {
                // another algorithm
            }
        }
        throw new GeneralSecurityException(from + " holds a key of an algorithm other than RSA, EC or Ed25519");
    }
}
