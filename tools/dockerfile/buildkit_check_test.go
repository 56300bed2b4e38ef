//go:build buildkit

package dockerfile

import (
	"context"
	"fmt"
	"testing"

	"github.com/moby/buildkit/client/llb"
	"github.com/moby/buildkit/client/llb/sourceresolver"
	"github.com/moby/buildkit/frontend/dockerfile/dockerfile2llb"
	digest "github.com/opencontainers/go-digest"
)

// BuildKit's conversion of the Dockerfile, the step of docker build that
// needs no daemon, where 18 of BuildKit's 22 lint rules run. Its LLB
// packages bring containerd, gRPC and OpenTelemetry: about 95 s of CPU to
// compile on a cold cache, more than half of what the tooling module
// costs, for a file that seldom changes. So it builds only with the
// buildkit tag: make lint-dockerfile runs it, and so does its own job in
// .github/workflows/ci.yml, beside make test. Without the tag,
// dockerfile_test.go's checks run alone (BuildKit's parser and the rules
// its instructions package applies).

func init() { moreDockerfileChecks = append(moreDockerfileChecks, buildkitCheck) }

// imageConfig stands in for the registries, which the lint never reaches
// here: every base image is an empty linux/amd64 image.
type imageConfig struct{}

func (imageConfig) ResolveImageConfig(_ context.Context, ref string, _ sourceresolver.Opt) (string, digest.Digest, []byte, error) {
	return ref, digest.FromString(ref), []byte(`{"architecture":"amd64","os":"linux","config":{}}`), nil
}

// buildkitCheck runs what `docker build --check` runs: BuildKit converts
// the Dockerfile as a build would (an unknown stage in --from, a bad flag or
// an undefined ARG in FROM fails here) and reports its lint rules (casing,
// undefined variables, secrets in ARG or ENV, JSON form for CMD, ...). A
// warning there shows in every docker build, so it is a problem here.
func buildkitCheck(src []byte) (problems []string) {
	sm := llb.NewSourceMap(nil, "Dockerfile", "Dockerfile", src)
	sm.Definition = &llb.Definition{}
	res, err := dockerfile2llb.DockerfileLint(context.Background(), src, dockerfile2llb.ConvertOpt{
		MetaResolver: imageConfig{},
		SourceMap:    sm,
	})
	if err != nil {
		return []string{"BuildKit: " + err.Error()}
	}
	if res.Error != nil {
		problems = append(problems, "BuildKit: "+res.Error.Message)
	}
	for _, w := range res.Warnings {
		line := 0
		if w.Location != nil && len(w.Location.Ranges) > 0 {
			line = int(w.Location.Ranges[0].Start.Line)
		}
		problems = append(problems, fmt.Sprintf("line %d: BuildKit check %s: %s", line, w.RuleName, w.Detail))
	}
	return problems
}

// TestDockerfileBuildKitMutations: BuildKit's checks report what docker
// build would warn about or fail on.
func TestDockerfileBuildKitMutations(t *testing.T) {
	p := loadProject(t)
	orig := string(readDockerfile(t))
	cases := []struct{ name, old, new, want string }{
		{"undefined ARG in FROM", "$BUILDPLATFORM", "$BUILDPLATFROM", "BuildKit check UndefinedArgInFrom"},
		{"secret in ENV", "FUNCTIONS_WORKER_RUNTIME=custom", "FUNCTIONS_WORKER_RUNTIME=custom \\\n    API_TOKEN=x", "BuildKit check SecretsUsedInArgOrEnv"},
		{"undefined variable", "WORKDIR /src", "WORKDIR $SRC_DIR", "BuildKit check UndefinedVar"},
		{"bad flag", "--chmod=0755", "--chmode=0755", "BuildKit: "},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) { checkMutation(t, p, orig, tc.old, tc.new, tc.want) })
	}
}
