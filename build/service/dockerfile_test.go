// Package service holds the local build of the service image.
package service

import (
	"os"
	"path"
	"regexp"
	"slices"
	"strings"
	"testing"
)

// runtimeStage returns the instructions of a Dockerfile's last stage, with
// COPY sources reduced to their file names (the official build copies from
// its build stage, the local one from its context).
func runtimeStage(t *testing.T, file string) []string {
	t.Helper()
	b, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	copyFrom := regexp.MustCompile(`^COPY (--from=\S+ )?(--chown=\S+ )?(\S+) (\S+)$`)
	var stage []string
	for _, line := range strings.Split(string(b), "\n") {
		line = strings.TrimSpace(line)
		switch {
		case line == "" || strings.HasPrefix(line, "#"):
		case strings.HasPrefix(line, "FROM "):
			stage = []string{line}
		default:
			if m := copyFrom.FindStringSubmatch(line); m != nil {
				line = "COPY " + m[2] + path.Base(m[3]) + " " + m[4]
			}
			stage = append(stage, line)
		}
	}
	return stage
}

func TestLocalImageIsTheOfficialRuntime(t *testing.T) {
	official := runtimeStage(t, "../../Dockerfile")
	local := runtimeStage(t, "Dockerfile.local")
	if !slices.Equal(official, local) {
		t.Fatalf("the runtime stages differ:\nDockerfile:       %q\nDockerfile.local: %q", official, local)
	}
	for _, want := range []string{"FROM scratch", "USER 65532:65532", `ENTRYPOINT ["/leadr"]`, "WORKDIR /var/lib/leadr",
		"COPY --chown=65532:65532 home /var/lib/leadr"} {
		if !slices.Contains(local, want) {
			t.Errorf("the runtime stage lacks %q", want)
		}
	}
	if !slices.ContainsFunc(local, func(l string) bool { return strings.HasPrefix(l, "HEALTHCHECK ") && strings.Contains(l, "healthcheck") }) {
		t.Error("the runtime stage has no HEALTHCHECK")
	}
}
