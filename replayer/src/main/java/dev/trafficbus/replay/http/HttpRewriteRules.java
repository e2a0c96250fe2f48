package dev.trafficbus.replay.http;

import dev.trafficbus.cli.UserInputException;

import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.regex.PatternSyntaxException;

/**
 * What to change in each replayed HTTP request (HTTP/1.x, and HTTP/2 streams): headers set or removed, the
 * request target rewritten by a regular expression, the Host header replaced; and which requests to leave out,
 * by their captured target and method. Bodies and framing headers stay as captured.
 */
public final class HttpRewriteRules {
    private static final Pattern TOKEN = Pattern.compile("[!#$%&'*+.^_`|~0-9A-Za-z-]+");

    private final List<String[]> setHeaders = new ArrayList<>();
    private final List<String> removeHeaders = new ArrayList<>();
    private Pattern urlPattern;
    private String urlReplacement;
    private String host;
    private final List<Pattern> allowUrls = new ArrayList<>();
    private final List<Pattern> denyUrls = new ArrayList<>();
    private final List<String> allowMethods = new ArrayList<>();

    /** No change at all. */
    public static HttpRewriteRules none() {
        return new HttpRewriteRules();
    }

    /** True when no rule is set. */
    public boolean isEmpty() {
        return setHeaders.isEmpty() && removeHeaders.isEmpty() && urlPattern == null && host == null && !filters();
    }

    /** Replays only requests whose captured target (path and query; a gRPC call's /package.Service/Method) matches. */
    public HttpRewriteRules allowUrl(String regex) {
        allowUrls.add(pattern("--http-allow-url", regex));
        return this;
    }

    /** Leaves out requests whose captured target matches. */
    public HttpRewriteRules denyUrl(String regex) {
        denyUrls.add(pattern("--http-deny-url", regex));
        return this;
    }

    /** Replays only requests of this method (repeatable: any of them). */
    public HttpRewriteRules allowMethod(String method) {
        String m = method == null ? "" : method.trim();
        if (!TOKEN.matcher(m).matches()) {
            throw new UserInputException("--http-allow-method '" + method + "' is not a method name, e.g. GET or POST");
        }
        allowMethods.add(m);
        return this;
    }

    /** True when some request may be left out. */
    boolean filters() {
        return !allowUrls.isEmpty() || !denyUrls.isEmpty() || !allowMethods.isEmpty();
    }

    /** Whether a request of {@code method} for the captured {@code target} is replayed. */
    boolean admits(String method, String target) {
        if (!allowMethods.isEmpty() && !allowMethods.contains(method)) {
            return false;
        }
        if (!allowUrls.isEmpty() && allowUrls.stream().noneMatch(p -> p.matcher(target).find())) {
            return false;
        }
        return denyUrls.stream().noneMatch(p -> p.matcher(target).find());
    }

    private static Pattern pattern(String option, String regex) {
        try {
            return Pattern.compile(regex == null ? "" : regex);
        } catch (PatternSyntaxException e) {
            throw new UserInputException(option + ": '" + regex + "' is not a regular expression: " + e.getDescription(), e);
        }
    }

    /** Sets header {@code 'Name: value'} on every request (replacing any header of that name). */
    public HttpRewriteRules setHeader(String nameColonValue) {
        int colon = nameColonValue == null ? -1 : nameColonValue.indexOf(':');
        String name = colon <= 0 ? "" : nameColonValue.substring(0, colon).trim();
        if (!TOKEN.matcher(name).matches()) {
            throw new UserInputException("--http-set-header '" + nameColonValue
                    + "' is not valid: use 'Name: value', e.g. --http-set-header 'X-Replay: 1'");
        }
        String value = nameColonValue.substring(colon + 1).trim();
        if (value.indexOf('\r') >= 0 || value.indexOf('\n') >= 0) {
            throw new UserInputException("--http-set-header '" + name + "': the value must be one line");
        }
        setHeaders.add(new String[] {name, value});
        return this;
    }

    /** Removes every header named {@code name} from every request. */
    public HttpRewriteRules removeHeader(String name) {
        String n = name == null ? "" : name.trim();
        if (!TOKEN.matcher(n).matches()) {
            throw new UserInputException("--http-remove-header '" + name + "' is not a header name");
        }
        removeHeaders.add(n.toLowerCase(Locale.ROOT));
        return this;
    }

    /** Rewrites request targets matching {@code 'REGEX=REPLACEMENT'} ($1... refer to groups). */
    public HttpRewriteRules rewriteUrl(String regexEqualsReplacement) {
        int eq = regexEqualsReplacement == null ? -1 : regexEqualsReplacement.lastIndexOf('=');
        if (eq <= 0) {
            throw new UserInputException("--http-rewrite-url '" + regexEqualsReplacement
                    + "' is not valid: use 'REGEX=REPLACEMENT', e.g. '^/v1/(.*)=/v2/$1'");
        }
        try {
            urlPattern = Pattern.compile(regexEqualsReplacement.substring(0, eq));
        } catch (PatternSyntaxException e) {
            throw new UserInputException("--http-rewrite-url: '" + regexEqualsReplacement.substring(0, eq)
                    + "' is not a regular expression: " + e.getDescription(), e);
        }
        urlReplacement = regexEqualsReplacement.substring(eq + 1);
        int groups = urlPattern.matcher("").groupCount();
        Matcher refs = Pattern.compile("(?<!\\\\)\\$(\\d)").matcher(urlReplacement);
        while (refs.find()) {
            if (Integer.parseInt(refs.group(1)) > groups) {
                throw new UserInputException("--http-rewrite-url: replacement '" + urlReplacement + "' refers to $"
                        + refs.group(1) + " but the expression has " + groups + " group(s)");
            }
        }
        return this;
    }

    /** Replaces the Host header of every request with {@code host}. */
    public HttpRewriteRules host(String host) {
        String h = host == null ? "" : host.trim();
        if (h.isEmpty() || h.chars().anyMatch(c -> c <= ' ' || c == '/')) {
            throw new UserInputException("--http-host '" + host + "' is not a host name (HOST or HOST:PORT)");
        }
        this.host = h;
        return this;
    }

    /** The Host every request is given (--http-host), or null. */
    public String hostOverride() {
        return host;
    }

    /** The request target after the URL rule. */
    String url(String url) {
        if (urlPattern == null) {
            return url;
        }
        Matcher m = urlPattern.matcher(url);
        try {
            return m.find() ? m.replaceFirst(urlReplacement) : url;
        } catch (IndexOutOfBoundsException e) {
            return url; // a group the pattern lacks for this match: leave the target alone
        }
    }

    /** Applies the header rules to {@code headers} (name, value pairs in order), in place. */
    void headers(List<String[]> headers) {
        if (!removeHeaders.isEmpty()) {
            headers.removeIf(h -> removeHeaders.contains(h[0].toLowerCase(Locale.ROOT)));
        }
        if (host != null) {
            set(headers, "Host", host);
        }
        for (String[] s : setHeaders) {
            set(headers, s[0], s[1]);
        }
    }

    private static void set(List<String[]> headers, String name, String value) {
        boolean done = false;
        for (int i = 0; i < headers.size(); i++) {
            if (headers.get(i)[0].equalsIgnoreCase(name)) {
                if (done) {
                    headers.remove(i--);
                } else {
                    headers.set(i, new String[] {headers.get(i)[0], value});
                    done = true;
                }
            }
        }
        if (!done) {
            headers.add(new String[] {name, value});
        }
    }
}
