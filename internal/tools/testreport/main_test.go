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
	if code := report(strings.NewReader(stream), &out, []string{"a"}); code != 1 {
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
	if code := report(strings.NewReader(stream), &out, []string{"c"}); code != 1 || !strings.Contains(out.String(), "FAIL c ran no test") {
		t.Fatalf("a required package without tests passed: %d\n%s", code, out.String())
	}
	out.Reset()
	ok := `{"Action":"pass","Package":"a","Test":"T"}` + "\n" + `{"Action":"pass","Package":"a"}`
	if code := report(strings.NewReader(ok), &out, []string{"a"}); code != 0 {
		t.Fatalf("a green run gave exit code %d:\n%s", code, out.String())
	}
}
