package dev.tether.server.hub;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import dev.tether.server.auth.TokenVerifier;
import dev.tether.server.broker.AppendRequest;
import dev.tether.server.broker.ChannelStream;
import dev.tether.server.broker.KeyLimitException;
import dev.tether.server.presence.ClientInfo;
import dev.tether.server.protocol.ChannelNames;
import dev.tether.server.protocol.CloseCode;
import dev.tether.server.protocol.ErrorCode;
import dev.tether.server.protocol.Fields;
import dev.tether.server.protocol.Json;
import dev.tether.server.protocol.ProtocolException;
import dev.tether.server.protocol.StreamPosition;
import dev.tether.server.session.SessionState;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import java.util.Set;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * What each command means (PROTOCOL.md sections 3-10). Runs on the connection's event loop and
 * uses the connection's state directly; it holds no state of its own.
 */
final class CommandHandler {
    private static final Logger log = LoggerFactory.getLogger(CommandHandler.class);
    static final String VERSION = "1.0.0";
    private static final Set<String> COMMANDS = Set.of("connect", "subscribe", "unsubscribe", "publish", "history", "presence");
    private static final int MAX_TOKEN_CHARS = 8192;
    private static final int MAX_INFO_BYTES = 4096;
    private static final int DEFAULT_HISTORY_LIMIT = 100;
    private static final int MAX_HISTORY_LIMIT = 1000;

    private final Connection c;
    private final Hub hub;

    CommandHandler(Connection c) {
        this.c = c;
        this.hub = c.hub;
    }

    void handle(JsonNode msg) {
        String op = msg.get("op").textValue();
        switch (op) {
            case "pong" -> {
                c.pong();
                return;
            }
            case "ack" -> {
                ack(msg);
                return;
            }
            default -> {
            }
        }
        JsonNode idNode = msg.get("id");
        if (idNode == null) {
            if (COMMANDS.contains(op)) {
                c.violation("command '" + op + "' has no 'id'");
            } else {
                errorPush(ErrorCode.UNKNOWN_OP, "unknown op '" + op + "'");
            }
            return;
        }
        if (!idNode.isIntegralNumber() || !idNode.canConvertToLong() || idNode.longValue() <= 0) {
            c.violation("'id' must be a positive integer");
            return;
        }
        long id = idNode.longValue();
        try {
            if (!COMMANDS.contains(op)) {
                throw new ProtocolException(ErrorCode.UNKNOWN_OP, "unknown op '" + op + "'");
            }
            if (c.isOutstanding(id)) {
                throw Fields.bad("id " + id + " is already used by a command still in progress");
            }
            if (!op.equals("connect") && !c.isConnected()) {
                throw new ProtocolException(ErrorCode.NOT_CONNECTED, "not connected: send connect first");
            }
            switch (op) {
                case "connect" -> connect(id, msg);
                case "subscribe" -> subscribe(id, msg);
                case "unsubscribe" -> unsubscribe(id, msg);
                case "publish" -> publish(id, msg);
                case "history" -> history(id, msg);
                default -> presence(id, msg);
            }
        } catch (ProtocolException e) {
            c.replyError(id, e);
        } catch (RuntimeException e) {
            log.warn("command {} {} of client {} failed", op, id, c.clientId, e);
            c.replyError(id, new ProtocolException(ErrorCode.INTERNAL, "internal error"));
        }
    }

    private void errorPush(ErrorCode code, String message) {
        c.sendPush(Json.write(c.ctx().alloc(), g -> {
            g.writeStartObject();
            g.writeStringField("op", "error");
            g.writeNumberField("code", code.code());
            g.writeStringField("message", message);
            g.writeEndObject();
        }));
    }

    // --- connect ---------------------------------------------------------------------------------

    private void connect(long id, JsonNode msg) {
        if (c.state != Connection.State.AWAITING_CONNECT) {
            throw new ProtocolException(ErrorCode.ALREADY_CONNECTED, "already connected");
        }
        String token = Fields.optionalString(msg, "token", MAX_TOKEN_CHARS);
        String session = Fields.optionalString(msg, "session", 256);
        String name = Fields.optionalString(msg, "name", 256);
        String info = connectInfo(msg);
        String user = "";
        if (hub.tokens.enabled()) {
            if (token != null) {
                try {
                    TokenVerifier.Identity identity = hub.tokens.verify(token);
                    user = identity.user();
                    info = identity.infoJson() != null ? identity.infoJson() : info;
                } catch (TokenVerifier.InvalidTokenException e) {
                    c.replyError(id, new ProtocolException(e.expired() ? ErrorCode.TOKEN_EXPIRED : ErrorCode.PERMISSION_DENIED,
                            e.getMessage()));
                    c.disconnect(CloseCode.UNAUTHORIZED, e.getMessage(), -1);
                    return;
                }
            } else if (!hub.config.allowAnonymous()) {
                c.replyError(id, new ProtocolException(ErrorCode.PERMISSION_DENIED, "a token is required"));
                c.disconnect(CloseCode.UNAUTHORIZED, "a token is required", -1);
                return;
            }
        }
        c.state = Connection.State.CONNECTING;
        String finalUser = user;
        String finalInfo = info;
        if (session == null) {
            finishConnect(id, null, finalUser, finalInfo, name);
            return;
        }
        c.setAutoRead(false);
        hub.claimSession(session, finalUser).whenComplete((state, err) -> c.onLoop(() -> {
            if (err != null) {
                log.warn("claiming session {} failed", session, err);
            }
            finishConnect(id, err == null ? state : null, finalUser, finalInfo, name);
        }));
    }

    private static String connectInfo(JsonNode msg) {
        JsonNode info = msg.get("info");
        if (info == null || info.isNull()) {
            return null;
        }
        if (!info.isObject()) {
            throw Fields.bad("field 'info' must be an object");
        }
        String json = info.toString();
        if (json.length() > MAX_INFO_BYTES) {
            throw new ProtocolException(ErrorCode.TOO_LARGE, "field 'info' is larger than " + MAX_INFO_BYTES + " bytes");
        }
        return json;
    }

    private void finishConnect(long id, SessionState state, String user, String info, String name) {
        if (c.state != Connection.State.CONNECTING) {
            if (state != null) {
                hub.sessions.save(state, hub.config.sessionTtl());
            }
            return;
        }
        boolean resumed = state != null && Objects.equals(state.user(), user);
        if (state != null && !resumed) {
            hub.sessions.save(state, hub.config.sessionTtl());
        }
        c.sessionId = resumed ? state.id() : hub.newSessionId();
        c.clientId = resumed ? state.client() : hub.newClientId();
        c.user = user;
        c.infoJson = resumed && info == null ? state.infoJson() : info;
        if (!hub.attach(c.sessionId, c)) {
            resumed = false;
            c.sessionId = hub.newSessionId();
            c.clientId = hub.newClientId();
            hub.attach(c.sessionId, c);
        }
        c.connected();
        List<RestoredSubscription> restored = resumed ? restore(state.subscriptions()) : List.of();
        boolean wasResumed = resumed;
        c.reply(id, g -> {
            g.writeStringField("client", c.clientId);
            g.writeStringField("session", c.sessionId);
            g.writeStringField("user", c.user);
            g.writeBooleanField("resumed", wasResumed);
            g.writeNumberField("ping", hub.config.pingInterval().toMillis());
            g.writeNumberField("pong", hub.config.pongTimeout().toMillis());
            g.writeNumberField("window", hub.config.window());
            g.writeStringField("node", hub.config.nodeName());
            g.writeStringField("version", VERSION);
            if (wasResumed) {
                g.writeArrayFieldStart("subscriptions");
                for (RestoredSubscription r : restored) {
                    g.writeStartObject();
                    writePosition(g, r.subscription.channel, r.top, r.subscription.stream.epoch(), r.recovery);
                    g.writeEndObject();
                }
                g.writeEndArray();
            }
        });
        if (resumed) {
            hub.metrics.resumes.increment();
        }
        log.debug("client {} connected: session {} resumed={} user='{}' name='{}' from {}", c.clientId, c.sessionId,
                resumed, user, name, c.ctx().channel().remoteAddress());
        for (RestoredSubscription r : restored) {
            c.deliver(r.subscription);
        }
        c.setAutoRead(true);
        for (JsonNode next = c.nextDeferred(); next != null && c.isConnected(); next = c.nextDeferred()) {
            handle(next);
        }
        c.dropDeferred();
        c.flush();
    }

    private record RestoredSubscription(Subscription subscription, long top, Recovery recovery) {
    }

    private List<RestoredSubscription> restore(List<SessionState.SubscriptionState> states) {
        List<RestoredSubscription> out = new ArrayList<>(states.size());
        for (SessionState.SubscriptionState st : states) {
            ChannelStream stream = hub.broker.open(st.channel());
            long top = stream.top();
            Recovery r = st.delivered() > top && st.epoch().equals(stream.epoch())
                    ? new Recovery(top + 1, null)
                    : Recovery.of(stream, new StreamPosition(st.delivered(), st.epoch()));
            Subscription s = new Subscription(st.channel(), stream, c, st.presence(), r.cursor());
            s.ackSeen = st.acked();
            s.acked = s.written;
            c.subscriptions.put(st.channel(), s);
            hub.addSubscriber(s);
            hub.presence.join(st.channel(), clientInfo());
            (r.recovered() ? hub.metrics.recoveriesOk : hub.metrics.recoveriesFailed).increment();
            out.add(new RestoredSubscription(s, stream.top(), r));
        }
        return out;
    }

    private static void writePosition(com.fasterxml.jackson.core.JsonGenerator g, String channel, long top, String epoch,
                                      Recovery r) throws java.io.IOException {
        g.writeStringField("channel", channel);
        g.writeNumberField("offset", top);
        g.writeStringField("epoch", epoch);
        if (r != null) {
            g.writeBooleanField("recovered", r.recovered());
            if (r.gap() != null) {
                r.gap().write(g);
            }
        }
    }

    private ClientInfo clientInfo() {
        return new ClientInfo(c.clientId, c.user, c.infoJson);
    }

    // --- subscriptions ---------------------------------------------------------------------------

    private void checkReadable(String channel) {
        if (ChannelNames.isPersonal(channel) && !ChannelNames.owner(channel).equals(c.user)) {
            throw new ProtocolException(ErrorCode.PERMISSION_DENIED, "channel " + channel + " belongs to another user");
        }
    }

    private void subscribe(long id, JsonNode msg) {
        String channel = Fields.channel(msg);
        StreamPosition since = Fields.since(msg);
        boolean presence = Fields.optionalBoolean(msg, "presence");
        checkReadable(channel);
        if (c.subscriptions.containsKey(channel)) {
            throw new ProtocolException(ErrorCode.ALREADY_SUBSCRIBED, "already subscribed to " + channel);
        }
        if (c.subscriptions.size() >= hub.config.maxSubscriptionsPerConnection()) {
            throw new ProtocolException(ErrorCode.LIMIT_EXCEEDED,
                    "at most " + hub.config.maxSubscriptionsPerConnection() + " subscriptions per connection");
        }
        ChannelStream stream = hub.broker.open(channel);
        Recovery recovery;
        try {
            recovery = since == null ? null : Recovery.of(stream, since);
        } catch (ProtocolException e) {
            stream.close();
            throw e;
        }
        Subscription s = new Subscription(channel, stream, c, presence, 0);
        hub.addSubscriber(s);
        long top = stream.top();
        s.cursor = recovery == null ? top + 1 : recovery.cursor();
        s.written = s.cursor - 1;
        s.acked = s.written;
        c.subscriptions.put(channel, s);
        if (recovery != null) {
            (recovery.recovered() ? hub.metrics.recoveriesOk : hub.metrics.recoveriesFailed).increment();
        }
        c.reply(id, g -> writePosition(g, channel, top, stream.epoch(), recovery));
        hub.presence.join(channel, clientInfo());
        c.deliver(s);
    }

    private void unsubscribe(long id, JsonNode msg) {
        String channel = Fields.channel(msg);
        Subscription s = c.subscriptions.remove(channel);
        if (s == null) {
            throw new ProtocolException(ErrorCode.NOT_SUBSCRIBED, "not subscribed to " + channel);
        }
        s.active = false;
        hub.removeSubscriber(s);
        s.stream.close();
        hub.presence.leave(channel, c.clientId);
        c.reply(id, g -> { });
    }

    private void ack(JsonNode msg) {
        if (!c.isConnected()) {
            return;
        }
        String channel;
        long offset;
        try {
            channel = Fields.channel(msg);
            offset = Fields.requiredOffset(msg, "offset");
        } catch (ProtocolException e) {
            errorPush(ErrorCode.BAD_REQUEST, "ack: " + e.getMessage());
            return;
        }
        Subscription s = c.subscriptions.get(channel);
        if (s == null) {
            return;
        }
        hub.metrics.acks.increment();
        s.ackSeen = true;
        long upTo = Math.min(offset, s.written);
        if (upTo > s.acked) {
            s.acked = upTo;
            c.deliver(s);
        }
    }

    // --- publish, history, presence --------------------------------------------------------------

    private void publish(long id, JsonNode msg) {
        String channel = Fields.channel(msg);
        if (!msg.has("data")) {
            throw Fields.bad("field 'data' is missing");
        }
        String key = Fields.optionalString(msg, "key", Fields.MAX_KEY_CHARS);
        byte[] data;
        try {
            data = Json.rawBytes(msg.get("data"));
        } catch (JsonProcessingException e) {
            throw Fields.bad("field 'data' cannot be encoded: " + e.getOriginalMessage());
        }
        if (data.length > hub.config.maxPublicationBytes()) {
            throw new ProtocolException(ErrorCode.TOO_LARGE,
                    "data is " + data.length + " bytes, more than " + hub.config.maxPublicationBytes());
        }
        if (!c.allowPublish()) {
            throw new ProtocolException(ErrorCode.RATE_LIMITED,
                    "more than " + hub.config.maxPublishRate() + " publications per second", c.publishRetryAfterMillis());
        }
        c.addOutstanding(id);
        hub.publish(channel, new AppendRequest(data, key, c.user, c.clientId)).whenComplete((r, err) -> c.onLoop(() -> {
            c.removeOutstanding(id);
            if (Hub.unwrap(err) instanceof KeyLimitException full) {
                c.replyError(id, new ProtocolException(ErrorCode.RATE_LIMITED, full.getMessage(), full.retryAfterMillis()));
                return;
            }
            if (err != null) {
                log.warn("publish to {} by {} failed", channel, c.clientId, err);
                c.replyError(id, new ProtocolException(ErrorCode.INTERNAL, "publication was not stored; retry with the same key"));
                return;
            }
            c.reply(id, g -> {
                g.writeNumberField("offset", r.offset());
                g.writeStringField("epoch", r.epoch());
                g.writeBooleanField("duplicate", r.duplicate());
            });
        }));
    }

    private void history(long id, JsonNode msg) {
        String channel = Fields.channel(msg);
        StreamPosition since = Fields.since(msg);
        int limit = Fields.limit(msg, DEFAULT_HISTORY_LIMIT, MAX_HISTORY_LIMIT);
        checkReadable(channel);
        HistoryPage page = hub.history(channel, since, limit);
        c.reply(id, page::writeFields);
    }

    private void presence(long id, JsonNode msg) {
        String channel = Fields.channel(msg);
        checkReadable(channel);
        List<ClientInfo> clients = hub.presence.list(channel);
        c.reply(id, g -> Hub.writePresence(g, clients));
    }
}
