package dev.trafficbus.subscription;

import dev.trafficbus.subscription.SubscriptionParser.InvalidSubscriptionException;
import org.junit.jupiter.api.Test;

import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

class SubscriptionParserTest {
    private static final String FULL = """
            name: team-a                      # output topic tb.sub.team-a
            sources: [web1, web2]
            filter:
              server-ports: [80]
              client-cidrs: [10.0.0.0/8]
              http:
                methods: [GET, post]
                allow-url: ['^/api/']
                deny-url: ['^/api/admin']
                allow-header: ['User-Agent: .*Mobile.*']
            sample: 25%
            amplify: 3
            rate: 200 sessions/s
            redact:
              headers: [Authorization, Cookie]
              patterns: ['card=\\d{16}']
            """;

    @Test
    void readsTheDocumentedExample() {
        Subscription s = SubscriptionParser.parseOne(FULL);
        assertThat(s.name()).isEqualTo("team-a");
        assertThat(s.topic()).isEqualTo("tb.sub.team-a");
        assertThat(s.sources()).containsExactlyInAnyOrder("web1", "web2");
        assertThat(s.serverPorts()).containsExactly(80);
        assertThat(s.clientCidrs()).hasSize(1);
        assertThat(s.http().methods()).containsExactlyInAnyOrder("GET", "POST");
        assertThat(s.samplePercent()).isEqualTo(25.0);
        assertThat(s.amplify()).isEqualTo(3);
        assertThat(s.ratePerSecond()).isEqualTo(200.0);
        assertThat(s.redaction().headers()).containsExactly("Authorization", "Cookie");
        // The stored form reads back to the same rules.
        Subscription again = SubscriptionParser.parseOne(s.definition());
        assertThat(again.definition()).isEqualTo(s.definition());
        assertThat(again.amplify()).isEqualTo(3);
    }

    @Test
    void aFileMayHoldAList() {
        List<Subscription> all = SubscriptionParser.parseAll("- {name: a, sources: [w]}\n- {name: b, sources: [w]}\n");
        assertThat(all).extracting(Subscription::name).containsExactly("a", "b");
        assertThat(all.get(0).samplePercent()).isEqualTo(100.0);
        assertThat(all.get(0).amplify()).isEqualTo(1);
        assertThat(all.get(0).needsSessionState()).isFalse();
    }

    private static void rejects(String yaml, String message) {
        assertThatThrownBy(() -> SubscriptionParser.parseAll(yaml)).isInstanceOf(InvalidSubscriptionException.class)
                .hasMessage(message);
    }

    @Test
    void readersArePrincipalsOrBareUserNames() {
        Subscription s = SubscriptionParser.parseOne("{name: a, sources: [w], readers: [team-a, 'User:team-b']}");
        assertThat(s.readers()).containsExactlyInAnyOrder("User:team-a", "User:team-b");
        assertThat(SubscriptionParser.parseOne(s.definition()).readers()).isEqualTo(s.readers());
        assertThat(SubscriptionParser.parseOne("{name: a, sources: [w]}").readers()).isEmpty();
        rejects("{name: a, sources: [w], readers: ['Group:x']}", "subscription a: readers: 'Group:x' is not a principal: "
                + "use User:NAME or a bare user name of letters, digits, '.', '_', '@' and '-'");
    }

    @Test
    void invalidSubscriptionsNameTheField() {
        rejects("{name: team-a, sources: [w], sample: 150%}", "subscription team-a: sample: 150% is above 100%");
        rejects("{name: team-a, sources: [w], filtr: {}}",
                "subscription team-a: filtr: unknown field (known: amplify, filter, name, rate, readers, redact, sample, sources)");
        rejects("{name: team-a, sources: [w], filter: {http: {allow-url: ['^/api/(']}}}",
                "subscription team-a: filter.http.allow-url: '^/api/(' is not a valid regular expression: "
                        + "Unclosed group near index 7");
        rejects("{name: team-a, sources: [w], filter: {http: {verbs: [GET]}}}",
                "subscription team-a: filter.http.verbs: unknown field (known: allow-header, allow-url, deny-url, methods)");
        rejects("{name: team-a, sources: [w], amplify: 0}",
                "subscription team-a: amplify: '0' is not a whole number of copies from 1 to 1000");
        rejects("{name: team-a, sources: [w], rate: fast}",
                "subscription team-a: rate: 'fast' is not a rate such as '200 sessions/s'");
        rejects("{name: team-a, sources: [w], filter: {client-cidrs: [10.0.0.0/33]}}",
                "subscription team-a: filter.client-cidrs: '10.0.0.0/33': the prefix length must be 0 to 32");
        rejects("{name: team-a, sources: [w], filter: {server-ports: [70000]}}",
                "subscription team-a: filter.server-ports: '70000' is not a port (1-65535)");
        rejects("{name: team-a}", "subscription team-a: sources: missing; list the source ids to read, e.g. sources: [web1]");
        rejects("{sources: [w]}", "subscription #1: name: missing; give the subscription a name (it names the topic tb.sub.<name>)");
        rejects("{name: 'a b', sources: [w]}",
                "subscription a b: name: 'a b' is not valid: use 1-200 characters from letters, digits, '.', '_' and '-'");
        rejects("- {name: a, sources: [w]}\n- {name: a, sources: [v]}", "subscription a: name: given twice");
        rejects("{name: a, sources: [w], redact: {patterns: ['[']}}",
                "subscription a: redact.patterns: '[' is not a valid regular expression: Unclosed character class near index 0");
    }

    @Test
    void cidrsMatchClientAddressesOfFlowKeys() {
        byte[] key = new byte[13];
        key[0] = 4;
        key[7] = 10;
        key[8] = 1;
        key[9] = 2;
        key[10] = 3;
        assertThat(ClientCidr.parse("10.0.0.0/8").containsClientOf(key)).isTrue();
        assertThat(ClientCidr.parse("10.1.0.0/15").containsClientOf(key)).isTrue();
        assertThat(ClientCidr.parse("10.2.0.0/16").containsClientOf(key)).isFalse();
        assertThat(ClientCidr.parse("10.1.2.3").containsClientOf(key)).isTrue();
        assertThat(ClientCidr.parse("fd00::/8").containsClientOf(key)).isFalse();
    }
}
