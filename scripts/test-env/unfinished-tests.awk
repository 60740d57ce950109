# Reads Swift Testing's console output and prints the tests reported as started but not as
# ended (passed or failed), oldest first. scripts/test.sh uses it when the run exceeds its time
# limit: tests run one at a time, so the last name printed is the one that hung. (A parameterised
# case whose argument prints a newline can leave its test's end mid-line: that test then shows up
# too, but not last.)
/^[^ ]+ Test (case passing|run )/ { next }
/^[^ ]+ Test .* started\.$/ {
    name = $0; sub(/^[^ ]+ Test /, "", name); sub(/ started\.$/, "", name)
    open[name]++; order[++n] = name; next
}
/^[^ ]+ Test .* (passed|failed) after / {
    name = $0; sub(/^[^ ]+ Test /, "", name); sub(/( with [0-9]+ test cases?)? (passed|failed) after .*$/, "", name)
    if (open[name] > 0) open[name]--; next
}
END { for (i = 1; i <= n; i++) { name = order[i]; if (open[name] > 0) { print "  " name; open[name] = 0 } } }
