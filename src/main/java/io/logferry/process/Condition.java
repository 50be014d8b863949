package io.logferry.process;

import io.logferry.model.LinePattern;

import java.util.List;
import java.util.Map;
import java.util.stream.Collectors;

/**
 * A {@code when} condition, Filebeat's: {@code equals}, {@code contains}, {@code regexp} (RE2/J,
 * searched anywhere in the value), {@code has_fields}, {@code and}, {@code or}, {@code not}. An
 * absent field or a value of another type never matches (nor throws). Immutable.
 */
sealed interface Condition {
    boolean test(Map<String, Object> event);

    String describe();

    /** The field's value equals {@code value}: as text for a string, as a number or boolean for those. */
    record Equals(String field, String value) implements Condition {
        @Override
        public boolean test(Map<String, Object> event) {
            Object v = Fields.get(event, Fields.path(field));
            if (v instanceof String s) {
                return s.equals(value);
            }
            if (v instanceof Double || v instanceof Float) {
                try {
                    return ((Number) v).doubleValue() == Double.parseDouble(value.trim());
                } catch (NumberFormatException e) {
                    return false;
                }
            }
            if (v instanceof Number n) {
                try {
                    return n.longValue() == Long.parseLong(value.trim());
                } catch (NumberFormatException e) {
                    return false;
                }
            }
            if (v instanceof Boolean b) {
                return value.trim().equalsIgnoreCase(b.toString());
            }
            return false;
        }

        @Override
        public String describe() {
            return "equals." + field + "=" + Chain.quote(value);
        }
    }

    /** Whether {@code v} is a text that passes {@code test}, or a list with one. */
    private static boolean anyText(Object v, java.util.function.Predicate<String> test) {
        if (v instanceof String s) {
            return test.test(s);
        }
        if (v instanceof List<?> l) {
            for (Object x : l) {
                if (x instanceof String s && test.test(s)) {
                    return true;
                }
            }
        }
        return false;
    }

    /** The field's text (or one of its texts, for a list) contains {@code value}. */
    record Contains(String field, String value) implements Condition {
        @Override
        public boolean test(Map<String, Object> event) {
            return anyText(Fields.get(event, Fields.path(field)), s -> s.contains(value));
        }

        @Override
        public String describe() {
            return "contains." + field + "=" + Chain.quote(value);
        }
    }

    /** The field's text (or one of its texts) has a match of {@code pattern} (RE2/J: linear time). */
    record Regexp(String field, LinePattern pattern) implements Condition {
        @Override
        public boolean test(Map<String, Object> event) {
            return anyText(Fields.get(event, Fields.path(field)), pattern::find);
        }

        @Override
        public String describe() {
            return "regexp." + field + "=" + Chain.quote(pattern.source());
        }
    }

    /** Every one of the fields is present (with any value, null included). */
    record HasFields(List<String> fields) implements Condition {
        public HasFields {
            fields = List.copyOf(fields);
        }

        @Override
        public boolean test(Map<String, Object> event) {
            for (String f : fields) {
                if (!Fields.has(event, Fields.path(f))) {
                    return false;
                }
            }
            return true;
        }

        @Override
        public String describe() {
            return "has_fields=" + fields;
        }
    }

    record And(List<Condition> all) implements Condition {
        public And {
            all = List.copyOf(all);
        }

        @Override
        public boolean test(Map<String, Object> event) {
            for (Condition c : all) {
                if (!c.test(event)) {
                    return false;
                }
            }
            return true;
        }

        @Override
        public String describe() {
            return "and(" + all.stream().map(Condition::describe).collect(Collectors.joining(", ")) + ")";
        }
    }

    record Or(List<Condition> any) implements Condition {
        public Or {
            any = List.copyOf(any);
        }

        @Override
        public boolean test(Map<String, Object> event) {
            for (Condition c : any) {
                if (c.test(event)) {
                    return true;
                }
            }
            return false;
        }

        @Override
        public String describe() {
            return "or(" + any.stream().map(Condition::describe).collect(Collectors.joining(", ")) + ")";
        }
    }

    record Not(Condition inner) implements Condition {
        @Override
        public boolean test(Map<String, Object> event) {
            return !inner.test(event);
        }

        @Override
        public String describe() {
            return "not(" + inner.describe() + ")";
        }
    }
}
