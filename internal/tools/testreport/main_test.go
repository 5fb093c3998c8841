package main

import (
	"bytes"
	"strings"
	"testing"
)

func TestReport(t *testing.T) {
	stream := strings.Join([]string{
		`{"Action":"run","Package":"a","Test":"TestOne"}`,
		`{"Action":"output","Package":"a","Test":"TestOne","Output":"--- PASS\n"}`,
		`{"Action":"pass","Package":"a","Test":"TestOne"}`,
		`{"Action":"pass","Package":"a","Test":"TestOne/sub"}`,
		`{"Action":"pass","Package":"a","Elapsed":1.5}`,
		`{"Action":"output","Package":"b","Test":"TestBad","Output":"boom happened\n"}`,
		`{"Action":"fail","Package":"b","Test":"TestBad"}`,
		`{"Action":"fail","Package":"b"}`,
		`{"Action":"skip","Package":"c"}`,
	}, "\n")
	var out bytes.Buffer
	if code := report(strings.NewReader(stream), &out, []string{"a"}, nil); code != 1 {
		t.Fatalf("a failed test gave exit code %d", code)
	}
	for _, want := range []string{"ok   a 1.5s (2 passed", "FAIL b (0 passed, 1 failed)", "boom happened", "a: 2 tests passed"} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("report lacks %q:\n%s", want, out.String())
		}
	}
	if strings.Contains(out.String(), "--- PASS") {
		t.Error("output of a passing test is printed")
	}
	out.Reset()
	if code := report(strings.NewReader(stream), &out, []string{"c"}, nil); code != 1 || !strings.Contains(out.String(), "FAIL c ran no test") {
		t.Fatalf("a required package without tests passed: %d\n%s", code, out.String())
	}
	out.Reset()
	ok := `{"Action":"pass","Package":"a","Test":"T"}` + "\n" + `{"Action":"pass","Package":"a"}`
	if code := report(strings.NewReader(ok), &out, []string{"a"}, nil); code != 0 {
		t.Fatalf("a green run gave exit code %d:\n%s", code, out.String())
	}
}

func TestFiguresOfPassingTests(t *testing.T) {
	stream := strings.Join([]string{
		`{"Action":"output","Package":"s","Test":"TestLoad","Output":"=== RUN   TestLoad\n"}`,
		`{"Action":"output","Package":"s","Test":"TestLoad","Output":"2026/12/01 container started\n"}`,
		`{"Action":"output","Package":"s","Test":"TestLoad","Output":"    load_test.go:42: 1386 writes, 1386 found\n"}`,
		`{"Action":"pass","Package":"s","Test":"TestLoad"}`,
		`{"Action":"output","Package":"q","Test":"TestQuiet","Output":"    quiet_test.go:7: not shown\n"}`,
		`{"Action":"pass","Package":"q","Test":"TestQuiet"}`,
		`{"Action":"pass","Package":"s"}`,
		`{"Action":"pass","Package":"q"}`,
	}, "\n")
	var out bytes.Buffer
	if code := report(strings.NewReader(stream), &out, nil, []string{"s"}); code != 0 {
		t.Fatalf("exit code %d", code)
	}
	if !strings.Contains(out.String(), "load_test.go:42: 1386 writes, 1386 found") {
		t.Errorf("the figures are not printed:\n%s", out.String())
	}
	if strings.Contains(out.String(), "container started") || strings.Contains(out.String(), "not shown") {
		t.Errorf("more than the figures of -figures packages is printed:\n%s", out.String())
	}
}
