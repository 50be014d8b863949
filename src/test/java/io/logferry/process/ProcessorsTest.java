package io.logferry.process;

import com.fasterxml.jackson.databind.ObjectMapper;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/** Each processor and condition on small events, and what the compiler refuses. */
class ProcessorsTest {
    static final Compiler.Bounds BOUNDS = new Compiler.Bounds(4096, 64, 1024);
    private static final ObjectMapper MAPPER = new ObjectMapper();

    /** A processor from options given as k=v pairs. */
    static Processor p(String kind, String... kv) throws Compiler.Invalid {
        Map<String, String> o = new LinkedHashMap<>();
        for (String s : kv) {
            int eq = s.indexOf('=');
            o.put(s.substring(0, eq), s.substring(eq + 1));
        }
        return (Processor) Compiler.processor(kind, o, BOUNDS);
    }

    /** An event from JSON. */
    @SuppressWarnings("unchecked")
    static Map<String, Object> ev(String json) {
        try {
            return MAPPER.readValue(json.replace('\'', '"'), LinkedHashMap.class);
        } catch (Exception e) {
            throw new IllegalArgumentException(e);
        }
    }

    static String json(Map<String, Object> e) {
        try {
            return MAPPER.writeValueAsString(e).replace('"', '\'');
        } catch (Exception x) {
            throw new IllegalStateException(x);
        }
    }

    // ---- dissect ----

    @Test
    void dissectPutsFieldsUnderDissectByDefault() throws Exception {
        Map<String, Object> e = ev("{'message':'GET /a 200'}");
        assertThat(p("dissect", "tokenizer=%{method} %{path} %{code}").run(e)).isEqualTo(Processor.Outcome.CONTINUE);
        assertThat(json(e)).isEqualTo("{'message':'GET /a 200','dissect':{'method':'GET','path':'/a','code':'200'}}");
    }

    @Test
    void aFailureFlagsTheEventKeepsItAndEndsTheChainUnlessIgnored() throws Exception {
        Map<String, Object> e = ev("{'message':'no spaces'}");
        assertThat(p("dissect", "tokenizer=%{a}|%{b}").run(e)).isEqualTo(Processor.Outcome.STOP);
        assertThat(json(e)).isEqualTo("{'message':'no spaces','log':{'flags':['dissect_parsing_error']}}");
        Map<String, Object> f = ev("{'message':'x','log':{'flags':['multiline']}}");
        assertThat(p("dissect", "tokenizer=%{a}|%{b}", "ignore_failure=true").run(f)).isEqualTo(Processor.Outcome.CONTINUE);
        assertThat(json(f)).isEqualTo("{'message':'x','log':{'flags':['multiline','dissect_parsing_error']}}");
    }

    @Test
    void aConversionThatFailsIsAParsingFailure() throws Exception {
        Map<String, Object> e = ev("{'message':'abc def'}");
        assertThat(p("dissect", "tokenizer=%{n|integer} %{b}").run(e)).isEqualTo(Processor.Outcome.STOP);
        assertThat(json(e)).contains("dissect_parsing_error");
        Map<String, Object> ok = ev("{'message':'12 1.5 true'}");
        p("dissect", "tokenizer=%{n|long} %{f|double} %{b|boolean}", "target_prefix=").run(ok);
        assertThat(json(ok)).isEqualTo("{'message':'12 1.5 true','n':12,'f':1.5,'b':true}");
    }

    @Test
    void existingKeysAreKeptUnlessOverwriteKeys() throws Exception {
        Map<String, Object> e = ev("{'message':'a b','dissect':{'x':'old'}}");
        assertThat(p("dissect", "tokenizer=%{x} %{y}").run(e)).isEqualTo(Processor.Outcome.STOP);
        assertThat(json(e)).isEqualTo("{'message':'a b','dissect':{'x':'old'}}");
        assertThat(p("dissect", "tokenizer=%{x} %{y}", "overwrite_keys=true").run(e)).isEqualTo(Processor.Outcome.CONTINUE);
        assertThat(json(e)).isEqualTo("{'message':'a b','dissect':{'x':'a','y':'b'}}");
    }

    @Test
    void aMissingOrNonTextFieldStopsWithoutAFlag() throws Exception {
        Map<String, Object> e = ev("{'message':'a b','n':5}");
        assertThat(p("dissect", "tokenizer=%{x}", "field=n").run(e)).isEqualTo(Processor.Outcome.STOP);
        assertThat(p("dissect", "tokenizer=%{x}", "field=nope").run(e)).isEqualTo(Processor.Outcome.STOP);
        assertThat(json(e)).isEqualTo("{'message':'a b','n':5}");
    }

    @ParameterizedTest
    @CsvSource(delimiter = ';', value = {
            "none; '  a  ,  b  '",
            "left; 'a  ,b  '",
            "right; '  a,  b'",
            "all; 'a,b'"})
    void trimValues(String trim, String expected) throws Exception {
        Map<String, Object> e = ev("{'message':'  a  |  b  '}");
        p("dissect", "tokenizer=%{x}|%{y}", "trim_values=" + trim).run(e);
        @SuppressWarnings("unchecked")
        Map<String, Object> d = (Map<String, Object>) e.get("dissect");
        assertThat(d.get("x") + "," + d.get("y")).isEqualTo(expected);
    }

    @Test
    void trimCharsAndTheNestedTargetPrefix() throws Exception {
        Map<String, Object> e = ev("{'message':'[x]-[y]'}");
        p("dissect", "tokenizer=%{a}-%{b}", "trim_values=all", "trim_chars=[]", "target_prefix=p.q").run(e);
        assertThat(json(e)).isEqualTo("{'message':'[x]-[y]','p':{'q':{'a':'x','b':'y'}}}");
    }

    @Test
    void anIndirectNameThatWouldMakeABadFieldIsLeftOut() throws Exception {
        Map<String, Object> e = ev("{'message':'a..b v'}");
        assertThat(p("dissect", "tokenizer=%{?k} %{&k}").run(e)).isEqualTo(Processor.Outcome.CONTINUE);
        assertThat(json(e)).isEqualTo("{'message':'a..b v','dissect':{}}".replace(",'dissect':{}", ""));
    }

    @Test
    void theTextMustStartWithTheFirstDelimiter() throws Exception {
        Dissect d = (Dissect) p("dissect", "tokenizer=[%{a}]");
        assertThat(d.dissect("x[1]")).isNull();
        assertThat(d.dissect("[1]")).containsEntry("a", "1");
        assertThat(d.dissect("[1] and more")).containsEntry("a", "1");
    }

    // ---- the small processors ----

    @Test
    void addFieldsUnderFieldsByDefaultReplacing() throws Exception {
        Map<String, Object> e = ev("{'message':'m','fields':{'a':'old'}}");
        p("add_fields", "fields.a=1", "fields.b.c=2").run(e);
        assertThat(json(e)).isEqualTo("{'message':'m','fields':{'a':'1','b':{'c':'2'}}}");
        Map<String, Object> root = ev("{'message':'m'}");
        p("add_fields", "target=", "fields.service.name=api").run(root);
        assertThat(json(root)).isEqualTo("{'message':'m','service':{'name':'api'}}");
    }

    @Test
    void addTagsAppends() throws Exception {
        Map<String, Object> e = ev("{'tags':['x']}");
        p("add_tags", "tags=[web, \"prod\"]").run(e);
        assertThat(json(e)).isEqualTo("{'tags':['x','web','prod']}");
        Map<String, Object> t = ev("{}");
        p("add_tags", "tags=a,b", "target=labels.t").run(t);
        assertThat(json(t)).isEqualTo("{'labels':{'t':['a','b']}}");
    }

    @Test
    void dropFields() throws Exception {
        Map<String, Object> e = ev("{'message':'m','a':{'b':1,'c':2}}");
        assertThat(p("drop_fields", "fields=a.b,message").run(e)).isEqualTo(Processor.Outcome.CONTINUE);
        assertThat(json(e)).isEqualTo("{'a':{'c':2}}");
        assertThat(p("drop_fields", "fields=a.c,nope").run(e)).isEqualTo(Processor.Outcome.STOP);
        assertThat(json(e)).isEqualTo("{'a':{}}");
        assertThat(p("drop_fields", "fields=nope", "ignore_missing=true").run(e)).isEqualTo(Processor.Outcome.CONTINUE);
    }

    @Test
    void renameMovesAndPutsTheEventBackOnAnError() throws Exception {
        Map<String, Object> e = ev("{'a':1,'b':{'c':2},'d':3}");
        assertThat(p("rename", "fields.0.from=a", "fields.0.to=x.y", "fields.1.from=b.c", "fields.1.to=z").run(e))
                .isEqualTo(Processor.Outcome.CONTINUE);
        assertThat(json(e)).isEqualTo("{'b':{},'d':3,'x':{'y':1},'z':2}");
        Map<String, Object> f = ev("{'a':1,'d':3}");
        assertThat(p("rename", "fields.0.from=a", "fields.0.to=b", "fields.1.from=nope", "fields.1.to=c").run(f))
                .isEqualTo(Processor.Outcome.STOP);
        assertThat(json(f)).isEqualTo("{'d':3,'a':1}");
        Map<String, Object> g = ev("{'a':1,'d':3}");
        assertThat(p("rename", "fields.0.from=a", "fields.0.to=d").run(g)).isEqualTo(Processor.Outcome.STOP);
        assertThat(p("rename", "fields.0.from=nope", "fields.0.to=b", "fields.1.from=a", "fields.1.to=b", "ignore_missing=true")
                .run(g)).isEqualTo(Processor.Outcome.CONTINUE);
        assertThat(json(g)).isEqualTo("{'d':3,'b':1}");
        Map<String, Object> h = ev("{'a':1,'d':3}");
        assertThat(p("rename", "fields.0.from=nope", "fields.0.to=b", "fields.1.from=a", "fields.1.to=c", "fail_on_error=false")
                .run(h)).isEqualTo(Processor.Outcome.CONTINUE);
        assertThat(json(h)).isEqualTo("{'d':3,'c':1}");
    }

    @Test
    void dropEventWithAndWithoutWhen() throws Exception {
        assertThat(p("drop_event").run(ev("{}"))).isEqualTo(Processor.Outcome.DROP);
        Processor debug = p("drop_event", "when.regexp.message=^DEBUG");
        assertThat(debug.run(ev("{'message':'DEBUG x'}"))).isEqualTo(Processor.Outcome.DROP);
        assertThat(debug.run(ev("{'message':'INFO x'}"))).isEqualTo(Processor.Outcome.CONTINUE);
    }

    @Test
    void theChainStopsAtAFailureAndReportsADrop() throws Exception {
        Chain c = new Chain(List.of(p("dissect", "tokenizer=%{a} %{b}"), p("add_tags", "tags=after")));
        Map<String, Object> bad = ev("{'message':'x'}");
        assertThat(c.apply(bad)).isNull();
        assertThat(bad).doesNotContainKey("tags");
        Chain d = new Chain(List.of(p("add_tags", "tags=t"), p("drop_event", "when.contains.tags=t")));
        assertThat(d.apply(ev("{}"))).isEqualTo("drop_event");
        assertThat(d.describe()).containsExactly("1 add_tags target='tags' tags=[t]", "2 drop_event when contains.tags='t'");
    }

    // ---- conditions ----

    @ParameterizedTest(name = "{0} on {1}: {2}")
    @CsvSource(delimiter = ';', value = {
            "when.equals.stream=stderr; {'stream':'stderr'}; true",
            "when.equals.stream=stderr; {'stream':'stdout'}; false",
            "when.equals.http.code=200; {'http':{'code':200}}; true",
            "when.equals.http.code=200; {'http':{'code':'200'}}; true",
            "when.equals.http.code=abc; {'http':{'code':200}}; false",
            "when.equals.ok=true; {'ok':true}; true",
            "when.equals.r=0.5; {'r':0.5}; true",
            "when.equals.a=x; {}; false",
            "when.contains.message=err; {'message':'an error'}; true",
            "when.contains.tags=we; {'tags':['x','web']}; true",
            "when.contains.message=err; {'message':5}; false",
            "when.regexp.message=^[[:digit:]]+ ; {'message':'123 x'}; true",
            "when.regexp.message=(?i)warn; {'message':'a WARNING'}; true",
            "when.regexp.message=^x; {'message':'ax'}; false",
            "when.has_fields=[a, b.c]; {'a':1,'b':{'c':null}}; true",
            "when.has_fields=a,b; {'a':1}; false",
            "when.not.equals.a=1; {'a':'2'}; true",
            "when.and.0.equals.a=1 && when.and.1.contains.b=x; {'a':'1','b':'xx'}; true",
            "when.and.0.equals.a=1 && when.and.1.contains.b=x; {'a':'1','b':'yy'}; false",
            "when.or.0.equals.a=1 && when.or.1.equals.a=2; {'a':'2'}; true",
            "when.or.0.equals.a=1 && when.or.1.equals.a=2; {'a':'3'}; false",
            "when.not.or.0.equals.a=1 && when.not.or.1.has_fields=z; {'a':'3'}; true",
            "when.equals.a=1 && when.equals.b=2; {'a':'1','b':'2'}; true",
            "when.equals.a=1 && when.equals.b=2; {'a':'1','b':'3'}; false"})
    void conditions(String options, String event, boolean drops) throws Exception {
        Processor drop = p("drop_event", options.split(" && "));
        assertThat(drop.run(ev(event)) == Processor.Outcome.DROP).isEqualTo(drops);
    }

    // ---- what the compiler refuses ----

    @ParameterizedTest(name = "{0} {1}")
    @CsvSource(delimiter = ';', value = {
            "grok; pattern=x; is not one of",
            "dissect; field=message; needs a tokenizer",
            "dissect; tokenizer=no keys; has no %{key}",
            "dissect; tokenizer=%{a}%{b}; two keys with nothing between",
            "dissect; tokenizer=%{a} %{b; without its '}'",
            "dissect; tokenizer=%{&x} %{y}; has no key x",
            "dissect; tokenizer=%{a|hex}; is not integer",
            "dissect; tokenizer=%{+a/x}; not a number",
            "dissect; tokenizer=%{a..b}; empty part",
            "dissect; tokenizer=%{a} && trim_values=both; is not none, left, right or all",
            "dissect; tokenizer=%{a} && ignore_failure=maybe; is not true or false",
            "dissect; tokenizer=%{a} && tokeniser=%{b}; has no option 'tokeniser'",
            "add_fields; target=x; needs fields",
            "add_fields; fields..a=1; empty part",
            "add_tags; tags=; needs tags",
            "drop_fields; fields=/^a/; regular expressions",
            "rename; fields.0.from=a; needs both from and to",
            "rename; fields.x.from=a; has no option",
            "drop_event; when.regexp.message=(?=x); is refused",
            "drop_event; when.equals.a=1 && when.contains.b=2; one condition per level",
            "drop_event; when.and.x.equals.a=1; numbered conditions",
            "drop_event; when.like.a=1; is not equals",
            "drop_event; when.has_fields=; is empty",
            "drop_event; when.not.not.not.not.not.not.not.not.not.equals.a=1; deeper than 8",
            "drop_event; force=true; has no option"})
    void refused(String kind, String options, String why) {
        assertThatThrownBy(() -> p(kind, options.split(" && "))).isInstanceOf(Compiler.Invalid.class).hasMessageContaining(why);
    }

    @Test
    void theBoundsHold() {
        Compiler.Bounds small = new Compiler.Bounds(16, 3, 8);
        assertThatThrownBy(() -> Compiler.processor("dissect", Map.of("tokenizer", "%{a} %{b} %{c} %{d}"), small))
                .hasMessageContaining("limits.processor_max_value_bytes");
        assertThatThrownBy(() -> Compiler.processor("dissect", Map.of("tokenizer", "%{a}%{b}"), small))
                .hasMessageContaining("two keys");
        assertThatThrownBy(() -> Compiler.processor("dissect", Map.of("tokenizer", "%{a},%{b},%{c},%{d}"), new Compiler.Bounds(64, 3, 8)))
                .hasMessageContaining("limits.processor_max_fields (3)");
        assertThatThrownBy(() -> Compiler.processor("add_tags", Map.of("tags", "a,b,c,d"), small))
                .hasMessageContaining("limits.processor_max_fields");
        assertThatThrownBy(() -> Compiler.processor("drop_event", Map.of("when.regexp.message", "abcdefghij"), small))
                .hasMessageContaining("refused");
        Map<String, String> many = new LinkedHashMap<>();
        for (int i = 0; i < 5; i++) {
            many.put("when.or." + i + ".equals.a", "x");
        }
        assertThatThrownBy(() -> Compiler.processor("drop_event", many, small)).hasMessageContaining("limits.processor_max_fields");
    }
}
