package io.logferry.process;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

import java.time.Instant;
import java.time.LocalDate;
import java.time.ZoneOffset;
import java.util.Map;

import static io.logferry.process.ProcessorsTest.ev;
import static io.logferry.process.ProcessorsTest.json;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/**
 * The processors Filebeat users write in hints beyond the first six, as tables: each row a
 * processor's options (joined by {@code &&}), an event, the outcome and the event after. The
 * examples are those of Filebeat's reference pages
 * (https://www.elastic.co/guide/en/beats/filebeat/current/filtering-and-enhancing-data.html, one
 * page per processor: decode-json-fields.html, processor-timestamp.html, convert.html, ...),
 * with the JSON quotes as single quotes.
 */
class FilebeatProcessorsTest {

    static Processor p(String kind, String options) throws Compiler.Invalid {
        return ProcessorsTest.p(kind, options.isEmpty() ? new String[0] : options.split(" && "));
    }

    @ParameterizedTest(name = "{0} {1} on {2}")
    @CsvSource(delimiter = '|', quoteCharacter = '"', textBlock = """
        # decode_json_fields (decode-json-fields.html): in place by default; target ''; a named target; max_depth; process_array
        decode_json_fields | fields=message | {'message':'{\\'a\\':1,\\'b\\':{\\'c\\':\\'x\\'}}'} | CONTINUE | {'message':{'a':1,'b':{'c':'x'}}}
        decode_json_fields | fields=message && target= | {'message':'{\\'a\\':1}','stream':'stdout'} | CONTINUE | {'message':'{\\'a\\':1}','stream':'stdout','a':1}
        decode_json_fields | fields=message && target= | {'message':'{\\'stream\\':\\'x\\'}','stream':'stdout'} | CONTINUE | {'message':'{\\'stream\\':\\'x\\'}','stream':'stdout'}
        decode_json_fields | fields=message && target= && overwrite_keys=true | {'message':'{\\'stream\\':\\'x\\'}','stream':'stdout'} | CONTINUE | {'message':'{\\'stream\\':\\'x\\'}','stream':'x'}
        decode_json_fields | fields=message && target=app | {'message':'{\\'a\\':1}'} | CONTINUE | {'message':'{\\'a\\':1}','app':{'a':1}}
        decode_json_fields | fields=message && target=app | {'message':'{\\'a\\':\\'{\\\\\\'b\\\\\\':2}\\'}'} | CONTINUE | {'message':'{\\'a\\':\\'{\\\\\\'b\\\\\\':2}\\'}','app':{'a':'{\\'b\\':2}'}}
        decode_json_fields | fields=message && target=app && max_depth=2 | {'message':'{\\'a\\':\\'{\\\\\\'b\\\\\\':2}\\'}'} | CONTINUE | {'message':'{\\'a\\':\\'{\\\\\\'b\\\\\\':2}\\'}','app':{'a':{'b':2}}}
        decode_json_fields | fields=message | {'message':'[1,2]'} | CONTINUE | {'message':'[1,2]'}
        decode_json_fields | fields=message && process_array=true | {'message':'[1,2]'} | CONTINUE | {'message':[1,2]}
        decode_json_fields | fields=message && expand_keys=true | {'message':'{\\'a.b.c\\':123}'} | CONTINUE | {'message':{'a':{'b':{'c':123}}}}
        decode_json_fields | fields=message | {'message':'not json'} | STOP | {'message':'not json'}
        decode_json_fields | fields=message && add_error_key=true | {'message':'{'} | STOP | {'message':'{','error':{'message':'decoding the JSON of field message: Unexpected end-of-input: expected close marker for Object (start marker at [Source: REDACTED (`StreamReadFeature.INCLUDE_SOURCE_IN_LOCATION` disabled); line: 1, column: 1])','type':'json'}}
        decode_json_fields | fields=nope,message | {'message':'{}'} | CONTINUE | {'message':{}}
        # convert (convert.html): the example's fields, copy and rename
        convert | fields.0.from=src_ip && fields.0.to=source.ip && fields.0.type=ip && fields.1.from=src_port && fields.1.to=source.port && fields.1.type=integer | {'src_ip':'10.1.2.3','src_port':'8080'} | CONTINUE | {'src_ip':'10.1.2.3','src_port':'8080','source':{'ip':'10.1.2.3','port':8080}}
        convert | fields.0.from=a && fields.0.type=integer && mode=rename && fields.0.to=b | {'a':'12'} | CONTINUE | {'b':12}
        convert | fields.0.from=a && fields.0.type=boolean | {'a':'t'} | CONTINUE | {'a':true}
        convert | fields.0.from=a && fields.0.type=double | {'a':'1.5'} | CONTINUE | {'a':1.5}
        convert | fields.0.from=a && fields.0.type=ip | {'a':'::ffff:10.0.0.1'} | CONTINUE | {'a':'::ffff:10.0.0.1'}
        convert | fields.0.from=a && fields.0.type=ip | {'a':'10.0.0.256'} | STOP | {'a':'10.0.0.256'}
        convert | fields.0.from=a && fields.0.type=integer && fields.1.from=b && fields.1.type=integer | {'a':'1','b':'x'} | STOP | {'a':'1','b':'x'}
        convert | fields.0.from=a && fields.0.type=integer && fail_on_error=false | {'a':'x'} | CONTINUE | {'a':'x'}
        convert | fields.0.from=a && fields.0.type=integer && ignore_missing=true | {} | CONTINUE | {}
        # copy_fields (copy-fields.html): the example copies message to event.original
        copy_fields | fields.0.from=message && fields.0.to=event.original | {'message':'hi'} | CONTINUE | {'message':'hi','event':{'original':'hi'}}
        copy_fields | fields.0.from=message && fields.0.to=a | {'message':'hi','a':1} | STOP | {'message':'hi','a':1}
        copy_fields | fields.0.from=x && fields.0.to=a && ignore_missing=true | {'message':'hi'} | CONTINUE | {'message':'hi'}
        # truncate_fields (truncate-fields.html): bytes (never inside a character) or characters; flagged truncated
        truncate_fields | fields=message && max_bytes=5 | {'message':'ab€cd'} | CONTINUE | {'message':'ab€','log':{'flags':['truncated']}}
        truncate_fields | fields=message && max_characters=4 | {'message':'ab€cd'} | CONTINUE | {'message':'ab€c','log':{'flags':['truncated']}}
        truncate_fields | fields=message && max_characters=9 | {'message':'short'} | CONTINUE | {'message':'short'}
        # replace (replace.html): the example replaces '-' in url.path
        replace | fields.0.field=url.path && fields.0.pattern=-- && fields.0.replacement=_ | {'url':{'path':'/a--b--c'}} | CONTINUE | {'url':{'path':'/a_b_c'}}
        replace | fields.0.field=m && fields.0.pattern=(\\w+)@(\\w+) && fields.0.replacement=$2 at $1 | {'m':'user@host'} | CONTINUE | {'m':'host at user'}
        replace | fields.0.field=m && fields.0.pattern=x && fields.0.replacement=y | {} | STOP | {}
        # add_labels (add-labels.html)
        add_labels | labels.number=1 && labels.with.dots=test | {} | CONTINUE | {'labels':{'number':'1','with':{'dots':'test'}}}
        # include_fields (include-fields.html): only those kept
        include_fields | fields=http.request,message | {'message':'m','stream':'stdout','http':{'request':{'method':'GET'},'response':1},'x':2} | CONTINUE | {'http':{'request':{'method':'GET'}},'message':'m','stream':'stdout'}
        # urldecode (urldecode.html)
        urldecode | fields.0.from=url.original && fields.0.to=url.decoded | {'url':{'original':'http://example.com/?q=a%20b+c%C3%A9'}} | CONTINUE | {'url':{'original':'http://example.com/?q=a%20b+c%C3%A9','decoded':'http://example.com/?q=a b cé'}}
        urldecode | fields.0.from=u | {'u':'%zz'} | STOP | {'u':'%zz'}
        # decode_base64_field (decode-base64-field.html)
        decode_base64_field | field.from=b && field.to=t | {'b':'aGVsbG8gd29ybGQ='} | CONTINUE | {'b':'aGVsbG8gd29ybGQ=','t':'hello world'}
        decode_base64_field | field.from=b | {'b':'!!'} | STOP | {'b':'!!'}
        # append (append.html)
        append | target_field=my.tags && values=a,b && fields=tag | {'tag':'c','my':{'tags':'z'}} | CONTINUE | {'tag':'c','my':{'tags':['z','c','a','b']}}
        append | target_field=t && values=a,a && allow_duplicate=false | {} | CONTINUE | {'t':['a']}
        # decode_duration (decode-duration.html)
        decode_duration | field=d && format=milliseconds | {'d':'1h2m3.5s'} | CONTINUE | {'d':3723500.0}
        decode_duration | field=d && format=seconds | {'d':'300ms'} | CONTINUE | {'d':0.3}
        decode_duration | field=d | {'d':'soon'} | STOP | {'d':'soon'}
        # move_fields (move-fields.html): the example moves fields under a prefix
        move_fields | from=app && fields=method,elapsed_time && to=rpc. | {'app':{'method':'a','elapsed_time':3,'other':1}} | CONTINUE | {'app':{'other':1},'rpc':{'method':'a','elapsed_time':3}}
        move_fields | fields=id && to=my_prefix_ | {'id':1,'stream':'stdout'} | CONTINUE | {'stream':'stdout','my_prefix_id':1}
        # extract_array (extract_array.html): the example's my_array to source.ip, destination.ip, network.transport
        extract_array | field=my_array && mappings.source.ip=0 && mappings.destination.ip=1 && mappings.network.transport=2 | {'my_array':['10.0.0.1','10.0.0.2','tcp']} | CONTINUE | {'my_array':['10.0.0.1','10.0.0.2','tcp'],'destination':{'ip':'10.0.0.2'},'network':{'transport':'tcp'},'source':{'ip':'10.0.0.1'}}
        extract_array | field=a && mappings.x=0 && mappings.y=5 && omit_empty=true | {'a':['']} | CONTINUE | {'a':['']}
        extract_array | field=a && mappings.x=0 | {'a':[1],'x':2} | STOP | {'a':[1],'x':2}
        """)
    void filebeatsExamples(String kind, String options, String in, Processor.Outcome outcome, String out) throws Exception {
        Map<String, Object> e = ev(in);
        assertThat(p(kind, options).run(e)).isEqualTo(outcome);
        assertThat(json(e)).isEqualTo(out);
    }

    /** decode_csv_fields (decode-csv-fields.html): the example's {@code message} to {@code decoded.csv}, quoting as RFC 4180. */
    @Test
    void decodeCsvFields() throws Exception {
        Map<String, Object> e = new java.util.LinkedHashMap<>(Map.of("message", "a,\"b,c\",'d',\"e \"\"q\"\"\""));
        assertThat(p("decode_csv_fields", "fields.message=decoded.csv").run(e)).isEqualTo(Processor.Outcome.CONTINUE);
        assertThat(e.get("decoded")).isEqualTo(Map.of("csv", java.util.List.of("a", "b,c", "'d'", "e \"q\"")));
        Map<String, Object> tab = new java.util.LinkedHashMap<>(Map.of("message", "a\t  b"));
        assertThat(p("decode_csv_fields", "fields.message=csv && separator=\\t && trim_leading_space=true").run(tab))
                .isEqualTo(Processor.Outcome.CONTINUE);
        assertThat(tab.get("csv")).isEqualTo(java.util.List.of("a", "b"));
        for (String bad : new String[] {"a,b\"c", "\"open", "\"a\"b", "a\nb"}) {
            Map<String, Object> x = new java.util.LinkedHashMap<>(Map.of("message", bad));
            assertThat(p("decode_csv_fields", "fields.message=csv").run(x)).as(bad).isEqualTo(Processor.Outcome.STOP);
            assertThat(x).doesNotContainKey("csv");
        }
        Map<String, Object> there = new java.util.LinkedHashMap<>(Map.of("message", "a", "csv", 1));
        assertThat(p("decode_csv_fields", "fields.message=csv").run(there)).isEqualTo(Processor.Outcome.STOP);
        assertThat(p("decode_csv_fields", "fields.message=csv && overwrite_keys=true").run(there)).isEqualTo(Processor.Outcome.CONTINUE);
        assertThat(there.get("csv")).isEqualTo(java.util.List.of("a"));
    }

    /** fingerprint (fingerprint.html): the vectors of Filebeat's own tests (libbeat/processors/fingerprint/fingerprint_test.go). */
    @ParameterizedTest(name = "{0}")
    @CsvSource(delimiter = '|', textBlock = """
        fields=message                                      | {'message':'hello world'}                     | 50110bbfc1757f21caacc966b33f5ea2235c4176739447e0b3285dec4e1dd2a4
        fields=message                                      | {'message':'test message "hello world"'}      | 14a0364b79acbe4c78dd5e77db2c93ae8c750518b32581927d50b3eef407184e
        fields=field1,field2 && method=md5                  | {'field1':'foo','field2':'bar','unused_field':'baz'} | 4c45df4792f3ef850c928ec5f5232538
        fields=field1,field2 && method=sha1                 | {'field1':'foo','field2':'bar','unused_field':'baz'} | 22f76427d626516d3f7a05785165b99617683b22
        fields=field1,field2 && method=sha256               | {'field1':'foo','field2':'bar','unused_field':'baz'} | 1208288932231e313b369bae587ff574cd3016a408e52e7128d7bee752674003
        fields=field1,field2 && method=sha384               | {'field1':'foo','field2':'bar','unused_field':'baz'} | 295adfe0bc03908948e4b0b6a54f441767867e426dda590430459c8a147fbba242a38cba282adee78335b9e08877b86c
        fields=field1,field2 && method=sha512               | {'field1':'foo','field2':'bar','unused_field':'baz'} | f50ad51b63c92a0ed0c910527119b81806f3110f0afaa1dcb93506a78371ea761e50c0fc09b08c441d832dd2da1b45e5d8361adfb240e1fffc2695122a23e183
        fields=field1,field2 && method=xxhash               | {'field1':'foo','field2':'bar','unused_field':'baz'} | 37bc50682fba6686
        fields=nested.field,field1,nested.field             | {'field1':'foo','field2':'bar','nested':{'field':'qux'}} | 3d51237d384215a6e731f2cc67ead6d7d9a5138377897c8f542a915be3c25bcf
        fields=field2,nested.field && method=md5            | {'field1':'foo','field2':'bar','nested':{'field':'qux'}} | 8934ca639027aab1ee9f3944d4d6bd1e
        fields=field2,nested.field && method=md5 && encoding=base32 | {'field1':'foo','field2':'bar','nested':{'field':'qux'}} | RE2MUY4QE6VLD3U7HFCNJVV5DY======
        fields=field2,nested.field && method=md5 && encoding=base64 | {'field1':'foo','field2':'bar','nested':{'field':'qux'}} | iTTKY5AnqrHunzlE1Na9Hg==
        fields=field1,missing_field && ignore_missing=true  | {'field1':'foo'}                              | 4cf8b768ad20266c348d63a6d1ff5d6f6f9ed0f59f5c68ae031b78e3e04c5144
        """)
    void fingerprintAsFilebeatsTests(String options, String in, String expected) throws Exception {
        Map<String, Object> e = ev(in.replace("\"", "\\\""));
        assertThat(p("fingerprint", options).run(e)).isEqualTo(Processor.Outcome.CONTINUE);
        assertThat(e.get("fingerprint")).isEqualTo(expected);
    }

    @Test
    void fingerprintOfATimeIsGosUtcTextAndErrorsAreFilebeats() throws Exception {
        Map<String, Object> e = new java.util.LinkedHashMap<>(Map.of("timestamp", Instant.parse("2019-10-29T00:00:00Z")));
        assertThat(p("fingerprint", "fields=timestamp").run(e)).isEqualTo(Processor.Outcome.CONTINUE);
        assertThat(e.get("fingerprint")).isEqualTo("4534d56a673c2da41df32db5da87cf47e639e84fe82907f2c015c8dfcac5d4f5");
        assertThat(p("fingerprint", "fields=field1,missing_field").run(ev("{'field1':'foo'}"))).isEqualTo(Processor.Outcome.STOP);
        assertThat(p("fingerprint", "fields=field1,complex").run(ev("{'field1':'foo','complex':{'child':'qux'}}")))
                .isEqualTo(Processor.Outcome.STOP);
        Map<String, Object> t = ev("{'field1':'foo'}");
        assertThat(p("fingerprint", "fields=field1 && target_field=nested.target_field").run(t)).isEqualTo(Processor.Outcome.CONTINUE);
        assertThat(((Map<?, ?>) t.get("nested")).get("target_field")).isEqualTo("4cf8b768ad20266c348d63a6d1ff5d6f6f9ed0f59f5c68ae031b78e3e04c5144");
        // numbers as Go's %v prints a float64: shortest digits, %e from 1e6 on and below 1e-4
        assertThat(Fingerprint.goFloat(1e6)).isEqualTo("1e+06");
        assertThat(Fingerprint.goFloat(1234567.5)).isEqualTo("1.2345675e+06");
        assertThat(Fingerprint.goFloat(123456.0)).isEqualTo("123456");
        assertThat(Fingerprint.goFloat(1.5)).isEqualTo("1.5");
        assertThat(Fingerprint.goFloat(0.0001)).isEqualTo("0.0001");
        assertThat(Fingerprint.goFloat(1e21)).isEqualTo("1e+21");
        assertThat(Fingerprint.goFloat(0.00001)).isEqualTo("1e-05");
    }

    // ---- timestamp (processor-timestamp.html) ----

    /** The page's example: three layouts and the three test times, which must parse when the processor is compiled. */
    static final String EXAMPLE = "field=start_time && layouts=2006-01-02T15:04:05Z,2006-01-02T15:04:05.999Z,2006-01-02T15:04:05.999-07:00"
            + " && test=2019-06-22T16:33:51Z,2019-11-18T04:59:51.123Z,2020-08-03T07:10:20.123456+02:00";

    @ParameterizedTest(name = "{0} with {1}")
    @CsvSource(delimiter = '|', quoteCharacter = '"', textBlock = """
        2019-06-22T16:33:51Z                   | 2006-01-02T15:04:05Z                  |       | 2019-06-22T16:33:51Z
        2019-11-18T04:59:51.123Z               | 2006-01-02T15:04:05.999Z              |       | 2019-11-18T04:59:51.123Z
        2020-08-03T07:10:20.123456+02:00       | 2006-01-02T15:04:05.999-07:00         |       | 2020-08-03T05:10:20.123456Z
        2020-08-03T07:10:20+02:00              | 2006-01-02T15:04:05Z07:00             |       | 2020-08-03T05:10:20Z
        2020-08-03T07:10:20Z                   | 2006-01-02T15:04:05Z07:00             |       | 2020-08-03T07:10:20Z
        03/Aug/2020:07:10:20 +0200             | 02/Jan/2006:15:04:05 -0700            |       | 2020-08-03T05:10:20Z
        2020-08-03 07:10:20,123                | '2006-01-02 15:04:05,000'             |       | 2020-08-03T07:10:20.123Z
        2020-08-03 07:10:20.5                  | 2006-01-02 15:04:05                   |       | 2020-08-03T07:10:20.500Z
        2020-08-03 07:10:20                    | 2006-01-02 15:04:05                   | Europe/Berlin | 2020-08-03T05:10:20Z
        2020-08-03 07:10:20                    | 2006-01-02 15:04:05                   | +0200 | 2020-08-03T05:10:20Z
        Mon Aug  3 07:10:20 2020               | Mon Jan _2 15:04:05 2006              |       | 2020-08-03T07:10:20Z
        Monday  3 August 2020 7:10PM           | Monday _2 January 2006 3:04PM         |       | 2020-08-03T19:10:00Z
        20-08-03                               | 06-01-02                              |       | 2020-08-03T00:00:00Z
        1596438620                             | UNIX                                  |       | 2020-08-03T07:10:20Z
        1596438620.25                          | UNIX                                  |       | 2020-08-03T07:10:20.250Z
        1596438620123                          | UNIX_MS                               |       | 2020-08-03T07:10:20.123Z
        """)
    void layouts(String text, String layout, String tz, String expected) throws Exception {
        Map<String, Object> e = ev("{}");
        e.put("t", text);
        Processor p = p("timestamp", "field=t && layouts=" + layout + (tz == null ? "" : " && timezone=" + tz));
        assertThat(p.run(e)).isEqualTo(Processor.Outcome.CONTINUE);
        assertThat(e.get("@timestamp")).isEqualTo(Instant.parse(expected));
    }

    @Test
    void theExampleCompilesAndItsTestsParse() throws Exception {
        Processor p = p("timestamp", EXAMPLE);
        Map<String, Object> e = ev("{'start_time':'2019-11-18T04:59:51.123Z'}");
        assertThat(p.run(e)).isEqualTo(Processor.Outcome.CONTINUE);
        assertThat(e.get("@timestamp")).isEqualTo(Instant.parse("2019-11-18T04:59:51.123Z"));
        assertThat(p.describe()).isEqualTo("timestamp field=start_time layouts=[2006-01-02T15:04:05Z, 2006-01-02T15:04:05.999Z, "
                + "2006-01-02T15:04:05.999-07:00]");
        // a test time the layouts do not parse refuses the processor, as Filebeat refuses to load it
        assertThatThrownBy(() -> p("timestamp", "field=t && layouts=2006-01-02 && test=2019/06/22"))
                .hasMessageContaining("timestamp.test '2019/06/22' does not parse");
    }

    @Test
    void aLayoutWithoutAYearTakesTheCurrentOne() throws Exception {
        Map<String, Object> e = ev("{'t':'Aug  3 07:10:20'}");
        assertThat(p("timestamp", "field=t && layouts=Jan _2 15:04:05").run(e)).isEqualTo(Processor.Outcome.CONTINUE);
        int year = LocalDate.now(ZoneOffset.UTC).getYear();
        assertThat(e.get("@timestamp")).isEqualTo(Instant.parse(year + "-08-03T07:10:20Z"));
    }

    @Test
    void targetMissingAndFailures() throws Exception {
        Map<String, Object> e = ev("{'t':'2020-08-03'}");
        assertThat(p("timestamp", "field=t && layouts=2006-01-02 && target_field=event.created").run(e)).isEqualTo(Processor.Outcome.CONTINUE);
        assertThat(((Map<?, ?>) e.get("event")).get("created")).isEqualTo(Instant.parse("2020-08-03T00:00:00Z"));
        assertThat(p("timestamp", "field=x && layouts=2006-01-02").run(ev("{}"))).isEqualTo(Processor.Outcome.STOP);
        assertThat(p("timestamp", "field=x && layouts=2006-01-02 && ignore_missing=true").run(ev("{}"))).isEqualTo(Processor.Outcome.CONTINUE);
        Map<String, Object> bad = ev("{'t':'yesterday'}");
        assertThat(p("timestamp", "field=t && layouts=2006-01-02").run(bad)).isEqualTo(Processor.Outcome.STOP);
        assertThat(p("timestamp", "field=t && layouts=2006-01-02 && ignore_failure=true").run(bad)).isEqualTo(Processor.Outcome.CONTINUE);
        assertThat(bad).doesNotContainKey("@timestamp");
        // hostile numbers: no exponent, no billion-digit arithmetic
        assertThat(p("timestamp", "field=t && layouts=UNIX").run(ev("{'t':'1e999999999'}"))).isEqualTo(Processor.Outcome.STOP);
        assertThat(p("timestamp", "field=t && layouts=UNIX").run(ev("{'t':'" + "9".repeat(200) + "'}"))).isEqualTo(Processor.Outcome.STOP);
    }

    @ParameterizedTest
    @CsvSource(delimiter = '|', textBlock = """
        timestamp           | layouts=2006                                        | timestamp needs a field
        timestamp           | field=t                                             | timestamp needs layouts
        timestamp           | field=t && layouts=nothing here                     | has no element of Go's reference time
        timestamp           | field=t && layouts=2006 && timezone=Mars/Base       | timestamp.timezone 'Mars/Base'
        timestamp           | field=t && layouts=2006 && formats=x                | timestamp has no option 'formats'
        decode_json_fields  | target=x                                            | decode_json_fields needs fields
        decode_json_fields  | fields=a && max_depth=0                             | max_depth '0' is not a whole number from 1 to 10
        decode_json_fields  | fields=a && max_depth=11                            | from 1 to 10
        decode_json_fields  | fields=a && document_id=id                          | document_id is not supported
        convert             | fields.0.from=a && fields.0.type=date               | convert type 'date'
        truncate_fields     | fields=a                                            | one of max_bytes and max_characters
        truncate_fields     | fields=a && max_bytes=-1                            | is not a positive whole number
        replace             | fields.0.field=a && fields.0.pattern=(?=x) && fields.0.replacement=y | replace.pattern is refused
        decode_duration     | field=d && format=days                              | decode_duration.format 'days'
        fingerprint         | target_field=a                                      | fingerprint needs fields
        fingerprint         | fields=a && method=crc32                            | fingerprint.method 'crc32'
        fingerprint         | fields=a && encoding=base85                         | fingerprint.encoding 'base85'
        decode_csv_fields   | fields.a=b && separator=ab                          | is not one character
        extract_array       | field=a && mappings.x=first                         | 'first' is not an index
        """)
    void refused(String kind, String options, String why) {
        assertThatThrownBy(() -> p(kind, options)).isInstanceOf(Compiler.Invalid.class).hasMessageContaining(why);
    }

    @Test
    void replaceCannotMultiplyTheText() throws Exception {
        Map<String, Object> e = ev("{'m':'" + "a".repeat(1000) + "'}");
        assertThat(p("replace", "fields.0.field=m && fields.0.pattern=x* && fields.0.replacement=" + "y".repeat(4000)).run(e))
                .isEqualTo(Processor.Outcome.STOP);
        assertThat((String) e.get("m")).hasSize(1000);
    }

    @Test
    void decodeJsonFieldsIsBoundedByTheFieldTree() throws Exception {
        StringBuilder deep = new StringBuilder();
        for (int i = 0; i < 500; i++) {
            deep.append("{\"a\":");
        }
        deep.append('1').append("}".repeat(500));
        Map<String, Object> e = new java.util.LinkedHashMap<>();
        e.put("message", deep.toString());
        assertThat(p("decode_json_fields", "fields=message").run(e)).isEqualTo(Processor.Outcome.CONTINUE);
        int depth = 0;
        Object at = e.get("message");
        while (at instanceof Map<?, ?> m) {
            at = m.values().iterator().next();
            depth++;
        }
        assertThat(depth).isLessThanOrEqualTo(20);      // limits.field_max_depth's default: the rest stays flat on the last level
    }
}
