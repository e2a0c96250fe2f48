package dev.trafficbus.diff;

import org.junit.jupiter.api.Test;

import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

class JsonPathTest {
    @Test
    void fieldsIndicesWildcardsAndDescentMatchConcretePaths() {
        assertThat(JsonPath.parse("$.requestId").matches(List.of("requestId"))).isTrue();
        assertThat(JsonPath.parse("$.requestId").matches(List.of("meta", "requestId"))).isFalse();
        assertThat(JsonPath.parse("$.items[*].id").matches(List.of("items", 3, "id"))).isTrue();
        assertThat(JsonPath.parse("$.items[*].id").matches(List.of("items", "x", "id"))).isFalse();
        assertThat(JsonPath.parse("$.items[1].id").matches(List.of("items", 1, "id"))).isTrue();
        assertThat(JsonPath.parse("$.items[1].id").matches(List.of("items", 2, "id"))).isFalse();
        assertThat(JsonPath.parse("$.*.id").matches(List.of("a", "id"))).isTrue();
        assertThat(JsonPath.parse("$..traceId").matches(List.of("a", 0, "b", "traceId"))).isTrue();
        assertThat(JsonPath.parse("$..traceId").matches(List.of("traceId"))).isTrue();
        assertThat(JsonPath.parse("$['a.b'].c").matches(List.of("a.b", "c"))).isTrue();
        assertThat(JsonPath.parse("$").matches(List.of())).isTrue();
    }

    @Test
    void renderingNamesIndicesAndGroups() {
        assertThat(JsonPath.render(List.of("items", 2, "price"), false)).isEqualTo("$.items[2].price");
        assertThat(JsonPath.render(List.of("items", 2, "price"), true)).isEqualTo("$.items[*].price");
        assertThat(JsonPath.render(List.of("a b"), false)).isEqualTo("$['a b']");
    }

    @Test
    void badPatternsNameTheProblem() {
        assertThatThrownBy(() -> JsonPath.parse("requestId")).hasMessageContaining("must start with $");
        assertThatThrownBy(() -> JsonPath.parse("$.items[x]")).hasMessageContaining("'[x]' is not [n], [*] or ['name']");
        assertThatThrownBy(() -> JsonPath.parse("$.items[1")).hasMessageContaining("is not closed");
        assertThatThrownBy(() -> JsonPath.parse("$.")).hasMessageContaining("a field name must follow '.'");
    }
}
