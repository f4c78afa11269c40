package dev.tether.bench.loadgen;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;

/**
 * A generator worker process: holds a {@link LocalFleet} for one slice of the subscribers and
 * answers the driver's commands, one JSON line in, one JSON line out, on stdin/stdout. It exits
 * when stdin closes, so it never outlives the driver.
 */
public final class Worker {
    static final ObjectMapper JSON = new ObjectMapper();

    private Worker() {
    }

    public static void main(String[] args) throws Exception {
        PrintStream out = System.out;
        System.setOut(System.err); // anything else printed must not corrupt the command channel
        FleetSpec spec = JSON.readValue(args[0], FleetSpec.class);
        try (LocalFleet fleet = new LocalFleet(spec);
             BufferedReader in = new BufferedReader(new InputStreamReader(System.in, StandardCharsets.UTF_8))) {
            out.println("{\"ready\":true}");
            out.flush();
            String line;
            while ((line = in.readLine()) != null) {
                JsonNode cmd = JSON.readTree(line);
                ObjectNode reply = JSON.createObjectNode();
                switch (cmd.path("cmd").asText()) {
                    case "open" -> fleet.open();
                    case "counts" -> reply.set("counts", JSON.valueToTree(fleet.counts()));
                    case "latency" -> reply.put("hist", Histograms.encode(fleet.takeLatency()));
                    case "verify" -> reply.set("verify", JSON.valueToTree(
                            fleet.verify(JSON.treeToValue(cmd.path("tops"), long[].class), cmd.path("timeout").asLong())));
                    case "cut" -> fleet.cut(cmd.path("spread").asLong());
                    case "storm" -> {
                        Fleet.Storm s = fleet.takeStorm();
                        reply.put("reconnectAt", Histograms.encode(s.reconnectAt()));
                        reply.put("reconnectLate", Histograms.encode(s.reconnectLate()));
                        reply.put("resumed", Histograms.encode(s.resumed()));
                        reply.put("recovered", Histograms.encode(s.recovered()));
                        reply.put("clientsRecovered", s.clientsRecovered());
                    }
                    case "quit" -> {
                        out.println("{}");
                        out.flush();
                        return;
                    }
                    default -> reply.put("error", "unknown command " + cmd.path("cmd").asText());
                }
                out.println(JSON.writeValueAsString(reply));
                out.flush();
            }
        }
    }
}
