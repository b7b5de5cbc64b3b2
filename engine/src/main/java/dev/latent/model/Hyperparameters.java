package dev.latent.model;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.latent.io.BadInputException;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.function.Function;
import java.util.stream.Collectors;

/**
 * The hyperparameters a model kind (or a training job) declares once: each {@link Param} has a key,
 * a type, a range, a default and a one-line help. The same declarations parse {@code --set key=value}
 * strings ({@link #parse}), read a model file's config JSON ({@link #read}), write it
 * ({@link #writeTo}) and render the list for {@code --help} ({@link #help}). An unknown key or a
 * value outside its range is a {@link BadInputException} naming the key and listing the valid keys or
 * the range. A config field absent from a file is an error unless its param declares the value files
 * written before it existed meant ({@link Param#absentInOldFiles}).
 */
public final class Hyperparameters {

    /** One hyperparameter: key, type name, range text, default (null: "see help"), help, parser. */
    public static final class Param<T> {
        private final String key;
        private final String type;
        private final String range;
        private final T fallback;
        private final String help;
        private final Function<String, T> parser;
        private final Function<T, JsonNode> json;
        private final T absentInOldFiles;
        private final boolean hasOldFileValue;

        private Param(String key, String type, String range, T fallback, String help, Function<String, T> parser,
                      Function<T, JsonNode> json, boolean hasOldFileValue, T absentInOldFiles) {
            this.key = key;
            this.type = type;
            this.range = range;
            this.fallback = fallback;
            this.help = help;
            this.parser = parser;
            this.json = json;
            this.hasOldFileValue = hasOldFileValue;
            this.absentInOldFiles = absentInOldFiles;
        }

        /** An integer in [min, max]. */
        public static Param<Integer> integer(String key, Integer fallback, int min, int max, String help) {
            return new Param<>(key, "int", interval(min, max), fallback, help, s -> {
                long v = Long.parseLong(s.trim());
                if (v < min || v > max) {
                    throw new IllegalArgumentException();
                }
                return (int) v;
            }, JsonNodeFactory.instance::numberNode, false, null);
        }

        /** A finite number in [min, max]. */
        public static Param<Double> real(String key, Double fallback, double min, double max, String help) {
            return new Param<>(key, "number", interval(min, max), fallback, help, s -> {
                double v = Double.parseDouble(s.trim());
                if (!Double.isFinite(v) || v < min || v > max) {
                    throw new IllegalArgumentException();
                }
                return v;
            }, JsonNodeFactory.instance::numberNode, false, null);
        }

        /** true or false, nothing else (a typo is not false). */
        public static Param<Boolean> bool(String key, Boolean fallback, String help) {
            return new Param<>(key, "boolean", "true|false", fallback, help, s -> switch (s.trim()) {
                case "true" -> true;
                case "false" -> false;
                default -> throw new IllegalArgumentException();
            }, JsonNodeFactory.instance::booleanNode, false, null);
        }

        /** A comma-separated, non-empty list of integers in [min, max] (JSON: an array). */
        public static Param<int[]> ints(String key, int[] fallback, int min, int max, String help) {
            return new Param<>(key, "ints", "comma-separated, each in " + interval(min, max), fallback, help, s -> {
                String t = s.trim();
                if (t.startsWith("[") && t.endsWith("]")) {
                    t = t.substring(1, t.length() - 1);
                }
                int[] v = Arrays.stream(t.split(",")).mapToInt(x -> Integer.parseInt(x.trim())).toArray();
                if (v.length == 0 || Arrays.stream(v).anyMatch(x -> x < min || x > max)) {
                    throw new IllegalArgumentException();
                }
                return v;
            }, v -> {
                var a = JsonNodeFactory.instance.arrayNode();
                Arrays.stream(v).forEach(a::add);
                return a;
            }, false, null);
        }

        /** One of {@code choices}. */
        public static Param<String> choice(String key, String fallback, List<String> choices, String help) {
            return new Param<>(key, "choice", String.join("|", choices), fallback, help, s -> {
                if (!choices.contains(s.trim())) {
                    throw new IllegalArgumentException();
                }
                return s.trim();
            }, JsonNodeFactory.instance::textNode, false, null);
        }

        /**
         * A value of another type read by {@code parse} (which throws IllegalArgumentException on a bad
         * string) and written as its {@code toString()}; {@code range} describes the valid strings.
         */
        public static <T> Param<T> parsed(String key, String type, String range, T fallback, Function<String, T> parse, String help) {
            return new Param<>(key, type, range, fallback, help, s -> parse.apply(s.trim()),
                    v -> JsonNodeFactory.instance.textNode(v.toString()), false, null);
        }

        /** This param, with a different default (a kind that shares the key but not the default). */
        public Param<T> withDefault(T d) {
            return new Param<>(key, type, range, d, help, parser, json, hasOldFileValue, absentInOldFiles);
        }

        /** This param under another key and help (a second layer's twin of a key). */
        public Param<T> withKey(String otherKey, String otherHelp) {
            return new Param<>(otherKey, type, range, fallback, otherHelp, parser, json, hasOldFileValue, absentInOldFiles);
        }

        /** This param, read as {@code value} from files that lack it (written before the key existed). */
        public Param<T> absentInOldFiles(T value) {
            return new Param<>(key, type, range, fallback, help, parser, json, true, value);
        }

        public String key() {
            return key;
        }

        /** The default: the value when {@code --set} does not give one (null: the help says what decides it). */
        public T fallback() {
            return fallback;
        }

        /** The value of {@code text}, or a {@link BadInputException} naming {@code where}, the key and the range. */
        public T parse(String text, String where) {
            try {
                return parser.apply(text);
            } catch (IllegalArgumentException e) {
                // a parser's own reason (e.g. a corruption's) says more than the range; a number's does not
                String why = e.getMessage() == null || e instanceof NumberFormatException ? "" : " (" + e.getMessage() + ")";
                throw new BadInputException(where + " " + key + "=" + text + ": must be " + type + " " + range + why, e);
            }
        }

        JsonNode toJson(T value) {
            return json.apply(value);
        }

        /** The columns of its {@code --help} line: key=default, type, range, help. */
        String[] cells() {
            String d = fallback == null ? "(see help)" : fallback instanceof int[] a
                    ? Arrays.stream(a).mapToObj(Integer::toString).collect(Collectors.joining(",")) : fallback.toString();
            return new String[] {key + "=" + d, type, range, help};
        }

        private static String interval(double min, double max) {
            return (min == Double.MIN_VALUE ? "(0" : "[" + num(min)) + ", " + num(max) + "]";
        }

        private static String num(double v) {
            if (v == Integer.MAX_VALUE || v == Double.MAX_VALUE) {
                return "inf";
            }
            return v == Math.rint(v) && Math.abs(v) < 1e9 ? Long.toString((long) v) : Double.toString(v);
        }
    }

    /** Values of some declared params: the ones given, and the defaults of the others. */
    public static final class Values {
        private final Map<String, Param<?>> declared;
        private final Map<String, Object> given;

        private Values(Map<String, Param<?>> declared, Map<String, Object> given) {
            this.declared = declared;
            this.given = given;
        }

        /**
         * The given value of {@code p}, else the default declared for its key in these values' list
         * (a kind may declare a shared key with its own default).
         */
        @SuppressWarnings("unchecked")
        public <T> T get(Param<T> p) {
            Param<?> d = declared.get(p.key);
            if (d == null) {
                throw new IllegalArgumentException("hyperparameter '" + p.key + "' is not declared here; declared: " + declared.keySet());
            }
            return given.containsKey(p.key) ? (T) given.get(p.key) : (T) d.fallback;
        }

        /** Whether {@code p} was given (not defaulted). */
        public boolean given(Param<?> p) {
            return given.containsKey(p.key);
        }
    }

    /** Typed writes of config fields, in the order made. */
    public static final class Writer {
        private final ObjectNode out;

        private Writer(ObjectNode out) {
            this.out = out;
        }

        public <T> Writer put(Param<T> p, T value) {
            out.set(p.key, p.toJson(value));
            return this;
        }
    }

    /** A writer of {@code p = value} fields into {@code o}. */
    public static Writer writeTo(ObjectNode o) {
        return new Writer(o);
    }

    private final Map<String, Param<?>> params = new LinkedHashMap<>();

    private Hyperparameters(List<Param<?>> ps) {
        for (Param<?> p : ps) {
            if (params.put(p.key, p) != null) {
                throw new IllegalArgumentException("hyperparameter '" + p.key + "' declared twice");
            }
        }
    }

    public static Hyperparameters of(Param<?>... ps) {
        return new Hyperparameters(List.of(ps));
    }

    /** These params and {@code more} (a job's own keys on top of its model's). */
    public Hyperparameters plus(Param<?>... more) {
        List<Param<?>> all = new ArrayList<>(params.values());
        all.addAll(List.of(more));
        return new Hyperparameters(all);
    }

    /** The valid keys, in declaration order. */
    public List<String> keys() {
        return List.copyOf(params.keySet());
    }

    /**
     * Parses {@code key=value} strings (e.g. from {@code --set}); {@code where} names their source in
     * errors (e.g. "--set"). An unknown key is an error listing the valid ones.
     */
    public Values parse(Map<String, String> set, String where) {
        Map<String, Object> v = new LinkedHashMap<>();
        for (Map.Entry<String, String> e : set.entrySet()) {
            Param<?> p = params.get(e.getKey());
            if (p == null) {
                throw new BadInputException(where + " " + e.getKey() + ": unknown key; valid keys: " + String.join(", ", keys()));
            }
            v.put(p.key, p.parse(e.getValue(), where));
        }
        return new Values(params, v);
    }

    /**
     * Reads every declared key from a config JSON object (a model file's {@code __metadata__.config});
     * {@code source} names the file. Keys the config has but this list does not declare are left to the
     * caller (the kind, shapes and batch sizes derived from the data).
     */
    public Values read(JsonNode config, String source) {
        Map<String, Object> v = new LinkedHashMap<>();
        for (Param<?> p : params.values()) {
            JsonNode j = config.get(p.key);
            if (j == null || j.isNull()) {
                if (!p.hasOldFileValue) {
                    throw new BadInputException(source + ": config field '" + p.key + "' is missing");
                }
                v.put(p.key, p.absentInOldFiles);
                continue;
            }
            v.put(p.key, p.parse(j.isTextual() ? j.asText() : j.toString(), source + ": config field"));
        }
        return new Values(params, v);
    }

    /**
     * One line per key (key=default, type, range, help), for {@code --help}, in columns as wide as their
     * widest cell (at most {@value #HELP_COLUMN} characters; a wider cell pushes only its own line).
     */
    public String help() {
        List<String[]> rows = params.values().stream().map(Param::cells).toList();
        int[] width = new int[3];
        for (String[] r : rows) {
            for (int c = 0; c < width.length; c++) {
                width[c] = Math.max(width[c], Math.min(HELP_COLUMN, r[c].length()));
            }
        }
        return rows.stream().map(r -> String.format(Locale.ROOT, "%-" + width[0] + "s  %-" + width[1] + "s  %-" + width[2] + "s  %s",
                (Object[]) r)).collect(Collectors.joining("\n"));
    }

    /** The widest a column of {@link #help} gets. */
    private static final int HELP_COLUMN = 38;
}
