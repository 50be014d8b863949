package io.logferry.it;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.net.StandardProtocolFamily;
import java.net.UnixDomainSocketAddress;
import java.nio.ByteBuffer;
import java.nio.channels.Channels;
import java.nio.channels.SocketChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.List;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;

/**
 * A stand-in for a Docker socket proxy (tecnativa/docker-socket-proxy with CONTAINERS, EVENTS,
 * INFO, VERSION and POST=0): a loopback TCP port relaying to the engine's unix socket that lets
 * only GET requests to those API sections through and answers 403 to anything else. It records
 * every request, so a test can show what the agent asks of Docker.
 */
public final class SocketProxy implements AutoCloseable {
    private static final Set<String> ALLOWED = Set.of("containers", "events", "info", "version", "_ping");

    private final ServerSocket server;
    private final Path socket;
    private final List<String> requests = new CopyOnWriteArrayList<>();
    private final List<String> refused = new CopyOnWriteArrayList<>();
    private final Set<Socket> open = ConcurrentHashMap.newKeySet();

    public SocketProxy(Path unixSocket) throws IOException {
        this.socket = unixSocket;
        this.server = new ServerSocket(0, 50, InetAddress.getLoopbackAddress());
        Thread t = new Thread(this::accept, "socket-proxy");
        t.setDaemon(true);
        t.start();
    }

    public String url() {
        return "tcp://127.0.0.1:" + server.getLocalPort();
    }

    public List<String> requests() {
        return requests;
    }

    public List<String> refused() {
        return refused;
    }

    private void accept() {
        while (!server.isClosed()) {
            try {
                Socket client = server.accept();
                open.add(client);
                Thread t = new Thread(() -> serve(client), "socket-proxy-conn");
                t.setDaemon(true);
                t.start();
            } catch (IOException e) {
                return;
            }
        }
    }

    /** Reads requests one by one (GETs carry no body), forwards the allowed ones, refuses the rest. */
    private void serve(Socket client) {
        try (client; SocketChannel engine = SocketChannel.open(StandardProtocolFamily.UNIX)) {
            engine.connect(UnixDomainSocketAddress.of(socket));
            InputStream in = client.getInputStream();
            OutputStream out = client.getOutputStream();
            Thread back = new Thread(() -> pump(Channels.newInputStream(engine), out), "socket-proxy-back");
            back.setDaemon(true);
            back.start();
            while (true) {
                byte[] head = readHead(in);
                if (head == null) {
                    return;
                }
                String text = new String(head, StandardCharsets.ISO_8859_1);
                String line = text.substring(0, text.indexOf("\r\n"));
                String[] parts = line.split(" ");
                String path = parts.length > 1 ? parts[1] : "";
                String section = path.replaceFirst("^/v[0-9.]+", "").replaceFirst("^/", "").split("[/?]")[0];
                requests.add(parts[0] + " " + path);
                if (!parts[0].equals("GET") && !parts[0].equals("HEAD") || !ALLOWED.contains(section)) {
                    refused.add(parts[0] + " " + path);
                    synchronized (out) {
                        out.write(("HTTP/1.1 403 Forbidden\r\nContent-Type: text/plain\r\nContent-Length: 10\r\n\r\nforbidden\n")
                                .getBytes(StandardCharsets.ISO_8859_1));
                        out.flush();
                    }
                    continue;
                }
                engine.write(ByteBuffer.wrap(head));
            }
        } catch (IOException e) {
            // connection closed by either side
        } finally {
            open.remove(client);
        }
    }

    private static byte[] readHead(InputStream in) throws IOException {
        ByteArrayOutputStream b = new ByteArrayOutputStream();
        int state = 0;
        int c;
        while ((c = in.read()) >= 0) {
            b.write(c);
            state = (c == '\r' && (state == 0 || state == 2)) ? state + 1 : (c == '\n' && (state == 1 || state == 3)) ? state + 1 : 0;
            if (state == 4) {
                return b.toByteArray();
            }
        }
        return null;
    }

    private static void pump(InputStream from, OutputStream to) {
        byte[] buf = new byte[16384];
        try {
            int n;
            while ((n = from.read(buf)) > 0) {
                synchronized (to) {
                    to.write(buf, 0, n);
                    to.flush();
                }
            }
        } catch (IOException ignored) {
            // closed
        }
    }

    @Override
    public void close() throws IOException {
        server.close();
        for (Socket s : open) {
            s.close();
        }
    }
}
