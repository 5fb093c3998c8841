// Command testreport reads `go test -json` on standard input and prints a
// short report: one line per package with the number of tests that ran,
// the output of every failed test, and a summary. It fails when a test
// failed, when a package did not build, or when a package named with
// -require ran no test at all. For a package named with -figures it also
// prints what its passing tests logged (t.Log lines): tests that measure
// something print their figures in a green run too.
//
//	go test -json ./... | go run ./internal/tools/testreport -require <package> -figures <package>
package main

import (
	"bufio"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"os"
	"regexp"
	"slices"
	"strings"
)

type event struct {
	Action  string
	Package string
	Test    string
	Output  string
	Elapsed float64
}

type pkgState struct {
	passed, failed, skipped int
	result                  string
	elapsed                 float64
	output                  map[string][]string // test name ("" for the package) → its output
	figures                 []string            // what passing tests logged, for -figures
}

type stringList []string

func (s *stringList) String() string     { return strings.Join(*s, ",") }
func (s *stringList) Set(v string) error { *s = append(*s, v); return nil }

func main() {
	var require, figures stringList
	flag.Var(&require, "require", "a package that must run at least one test (repeatable)")
	flag.Var(&figures, "figures", "a package whose passing tests' log lines are printed (repeatable)")
	flag.Parse()
	os.Exit(report(os.Stdin, os.Stdout, require, figures))
}

// logLine is a line of t.Log: indented, then file:line.
var logLine = regexp.MustCompile(`^\s+\S+_test\.go:\d+: `)

func report(in io.Reader, out io.Writer, require, figures []string) int {
	pkgs := map[string]*pkgState{}
	var order []string
	state := func(name string) *pkgState {
		p, ok := pkgs[name]
		if !ok {
			p = &pkgState{output: map[string][]string{}}
			pkgs[name] = p
			order = append(order, name)
		}
		return p
	}
	sc := bufio.NewScanner(in)
	sc.Buffer(make([]byte, 1<<20), 16<<20)
	for sc.Scan() {
		var e event
		if err := json.Unmarshal(sc.Bytes(), &e); err != nil || e.Package == "" {
			fmt.Fprintln(out, sc.Text()) // build errors and other plain text
			continue
		}
		p := state(e.Package)
		switch e.Action {
		case "output":
			p.output[e.Test] = append(p.output[e.Test], e.Output)
		case "pass", "fail", "skip":
			if e.Test == "" {
				p.result, p.elapsed = e.Action, e.Elapsed
				continue
			}
			switch e.Action {
			case "pass":
				p.passed++
				if slices.Contains(figures, e.Package) {
					for _, line := range p.output[e.Test] {
						if logLine.MatchString(line) {
							p.figures = append(p.figures, line)
						}
					}
				}
				delete(p.output, e.Test)
			case "fail":
				p.failed++
			case "skip":
				p.skipped++
				delete(p.output, e.Test)
			}
		}
	}
	status := 0
	total := 0
	for _, name := range order {
		p := pkgs[name]
		total += p.passed
		switch {
		case p.result == "fail" || p.failed > 0:
			status = 1
			fmt.Fprintf(out, "FAIL %s (%d passed, %d failed)\n", name, p.passed, p.failed)
			tests := make([]string, 0, len(p.output))
			for t := range p.output {
				tests = append(tests, t)
			}
			slices.Sort(tests)
			for _, t := range tests {
				fmt.Fprint(out, strings.Join(p.output[t], ""))
			}
		case p.passed+p.failed+p.skipped == 0:
			fmt.Fprintf(out, "ok   %s (no tests)\n", name)
		default:
			fmt.Fprintf(out, "ok   %s %.1fs (%d passed, %d skipped)\n", name, p.elapsed, p.passed, p.skipped)
			fmt.Fprint(out, strings.Join(p.figures, ""))
		}
	}
	for _, r := range require {
		p, ok := pkgs[r]
		if !ok || p.passed == 0 {
			fmt.Fprintf(out, "FAIL %s ran no test; it must\n", r)
			status = 1
		} else {
			fmt.Fprintf(out, "%s: %d tests passed\n", r, p.passed)
		}
	}
	if err := sc.Err(); err != nil {
		fmt.Fprintln(out, "testreport:", err)
		status = 1
	}
	fmt.Fprintf(out, "%d tests passed in %d packages\n", total, len(order))
	return status
}
