// Command releasecheck checks that every released module of this repository
// installs on its own, as a user would get it, on the oldest Go its go line
// claims. From a scratch clone of a commit (HEAD by default: uncommitted work
// never leaks in), it
//
//  1. reads chatbot.Version from client.go and tags every released module at
//     it (v0.1.0, resilience/v0.1.0, ...), as Go's multi-module tagging
//     requires;
//  2. builds a file-system module proxy from those tags (the @v/list, .info,
//     .mod and .zip layout, the zips made by golang.org/x/mod/zip);
//  3. for each released module alone, in a fresh consumer module with no
//     replace: go get it at the tag, build and vet a program that imports
//     every package it offers, with GOFLAGS=-mod=mod and GOTOOLCHAIN set to
//     the oldest release its go line claims (the toolchain comes through the
//     Go module proxy); and checks that the consumer's go line was not raised
//     and that go mod graph names no test-only dependency.
//
// Our modules come only from the file-system proxy and skip the checksum
// database (GONOSUMDB covers github.com/chatbot-go/chatbot and nothing
// else); every other module comes from the real proxy and is verified as
// usual.
//
// Usage, from the repository root:
//
//	(cd internal/releasecheck && go run . [-rev REV] [-keep] ../..)
//
// It exits 1 and names each failure when a check fails.
package main

import (
	"bytes"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"go/ast"
	"go/parser"
	"go/token"
	"os"
	"os/exec"
	"path"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"time"

	"golang.org/x/mod/modfile"
	"golang.org/x/mod/module"
	"golang.org/x/mod/semver"
	modzip "golang.org/x/mod/zip"
)

// rootPath is the module path of the repository's root module.
const rootPath = "github.com/chatbot-go/chatbot"

// testOnly lists the module directories that are never released, besides
// those under an internal directory: they hold tests and benchmarks, and may
// keep replaces and test-only dependencies.
var testOnly = []string{"bench", "interop", "reliability"}

// forbidden are the dependencies that must not reach a consumer's module
// graph: fault injection and its own dependencies, and leak checking.
// testify is not among them: it is the project's declared test library, and
// gobreaker, a runtime dependency of resilience, requires it too.
var forbidden = []string{
	"github.com/Shopify/toxiproxy",
	"github.com/prometheus/client_golang",
	"github.com/rs/zerolog",
	"go.uber.org/goleak",
}

// mod is one module of the repository.
type mod struct {
	dir    string // relative to the repository root, "" for the root
	path   string // module path
	goLine string // its go directive
	file   *modfile.File
}

// tag returns the module's tag for version v.
func (m mod) tag(v string) string {
	if m.dir == "" {
		return v
	}
	return m.dir + "/" + v
}

func main() {
	rev := flag.String("rev", "HEAD", "the commit to check")
	keep := flag.Bool("keep", false, "keep the scratch directory and print its path")
	modcache := flag.String("modcache", defaultModCache(), "the consumers' module cache, kept between runs (this repository's modules are removed from it first)")
	flag.Usage = func() {
		fmt.Fprintf(flag.CommandLine.Output(), "usage: releasecheck [-rev REV] [-keep] REPO\n\n"+
			"Tags every released module of the repository at REPO at chatbot.Version in a scratch clone,\n"+
			"serves the tags from a file-system GOPROXY, and installs, builds and vets each module alone\n"+
			"in a fresh consumer on the oldest Go its go line claims.\n\n")
		flag.PrintDefaults()
	}
	flag.Parse()
	if flag.NArg() != 1 {
		flag.Usage()
		os.Exit(2)
	}
	start := time.Now()
	failures, err := run(flag.Arg(0), *rev, *keep, *modcache)
	if err != nil {
		fmt.Fprintln(os.Stderr, "releasecheck:", err)
		os.Exit(1)
	}
	if len(failures) > 0 {
		fmt.Fprintf(os.Stderr, "releasecheck: FAIL (%d), %s:\n", len(failures), time.Since(start).Round(time.Second))
		for _, f := range failures {
			fmt.Fprintln(os.Stderr, "  -", f)
		}
		os.Exit(1)
	}
	fmt.Printf("releasecheck: ok, %s\n", time.Since(start).Round(time.Second))
}

// run does the check and returns its failures; err is a failure to set it up.
func run(repo, rev string, keep bool, modcache string) (failures []string, err error) {
	repo, err = filepath.Abs(repo)
	if err != nil {
		return nil, err
	}
	scratch, err := os.MkdirTemp("", "releasecheck-")
	if err != nil {
		return nil, err
	}
	if keep {
		fmt.Println("scratch directory:", scratch)
	} else {
		defer os.RemoveAll(scratch)
	}
	src := filepath.Join(scratch, "src")
	sha, err := output(repo, nil, "git", "rev-parse", "--verify", rev+"^{commit}")
	if err != nil {
		return nil, err
	}
	sha = strings.TrimSpace(sha)
	if _, err := output(scratch, nil, "git", "clone", "--quiet", "--no-checkout", repo, src); err != nil {
		return nil, err
	}
	if _, err := output(src, nil, "git", "checkout", "--quiet", "--detach", sha); err != nil {
		return nil, err
	}
	v, err := readVersion(filepath.Join(src, "client.go"))
	if err != nil {
		return nil, err
	}
	mods, err := released(src)
	if err != nil {
		return nil, err
	}
	fmt.Printf("releasecheck: commit %.12s, version %s, modules:", sha, v)
	for _, m := range mods {
		fmt.Printf(" %s (go %s)", m.path, m.goLine)
	}
	fmt.Println()
	failures = append(failures, requireVersion(mods, v)...)

	proxy := filepath.Join(scratch, "proxy")
	for _, m := range mods {
		if _, err := output(src, nil, "git", "tag", m.tag(v)); err != nil {
			return nil, err
		}
		if err := publish(proxy, src, m, v); err != nil {
			return nil, err
		}
	}

	env, err := consumerEnv(scratch, proxy, modcache)
	if err != nil {
		return nil, err
	}
	for _, m := range mods {
		t0 := time.Now()
		fs := consume(filepath.Join(scratch, "consumer", strings.ReplaceAll(m.path, "/", "_")), src, m, v, env)
		status := "ok"
		if len(fs) > 0 {
			status = "FAIL"
		}
		fmt.Printf("releasecheck: %s@%s alone on go%s: %s (%s)\n", m.path, v, toolchain(m.goLine)[2:], status,
			time.Since(t0).Round(100*time.Millisecond))
		failures = append(failures, fs...)
	}
	return failures, nil
}

// readVersion returns "v" + the constant Version declared in file.
func readVersion(file string) (string, error) {
	f, err := parser.ParseFile(token.NewFileSet(), file, nil, parser.SkipObjectResolution)
	if err != nil {
		return "", err
	}
	for _, d := range f.Decls {
		g, ok := d.(*ast.GenDecl)
		if !ok || g.Tok != token.CONST {
			continue
		}
		for _, s := range g.Specs {
			vs := s.(*ast.ValueSpec)
			for i, n := range vs.Names {
				if n.Name != "Version" || i >= len(vs.Values) {
					continue
				}
				lit, ok := vs.Values[i].(*ast.BasicLit)
				if !ok || lit.Kind != token.STRING {
					return "", fmt.Errorf("%s: Version is not a string literal", file)
				}
				s, err := strconv.Unquote(lit.Value)
				if err != nil {
					return "", err
				}
				v := "v" + s
				if !semver.IsValid(v) || semver.Canonical(v) != v {
					return "", fmt.Errorf("%s: Version %q is not a semantic version", file, s)
				}
				return v, nil
			}
		}
	}
	return "", fmt.Errorf("%s: no const Version", file)
}

// released returns the released modules of the checkout at src, the root
// first.
func released(src string) ([]mod, error) {
	files, err := output(src, nil, "git", "ls-files", "--", "go.mod", "*/go.mod")
	if err != nil {
		return nil, err
	}
	var mods []mod
	for _, f := range strings.Fields(files) {
		dir := path.Dir(f)
		if dir == "." {
			dir = ""
		}
		if slices.Contains(testOnly, dir) || slices.Contains(strings.Split(dir, "/"), "internal") {
			continue
		}
		data, err := os.ReadFile(filepath.Join(src, f))
		if err != nil {
			return nil, err
		}
		mf, err := modfile.ParseLax(f, data, nil)
		if err != nil {
			return nil, err
		}
		if mf.Module == nil || mf.Go == nil {
			return nil, fmt.Errorf("%s: no module or go directive", f)
		}
		want := rootPath
		if dir != "" {
			want += "/" + dir
		}
		if mf.Module.Mod.Path != want {
			return nil, fmt.Errorf("%s: module %s, want %s", f, mf.Module.Mod.Path, want)
		}
		mods = append(mods, mod{dir: dir, path: want, goLine: mf.Go.Version, file: mf})
	}
	slices.SortFunc(mods, func(a, b mod) int { return strings.Compare(a.dir, b.dir) })
	return mods, nil
}

// requireVersion checks that each module requires the repository's other
// modules at v, the version they are tagged with together, and no test-only
// one.
func requireVersion(mods []mod, v string) []string {
	var failures []string
	for _, m := range mods {
		for _, r := range m.file.Require {
			p := r.Mod.Path
			if p != rootPath && !strings.HasPrefix(p, rootPath+"/") {
				continue
			}
			if !slices.ContainsFunc(mods, func(o mod) bool { return o.path == p }) {
				failures = append(failures, fmt.Sprintf("%s requires %s, which is not released", m.path, p))
			} else if r.Mod.Version != v {
				failures = append(failures, fmt.Sprintf("%s requires %s@%s, want %s (chatbot.Version)", m.path, p, r.Mod.Version, v))
			}
		}
	}
	return failures
}

// publish adds module m at version v, tagged in src, to the file-system
// proxy at dir.
func publish(dir, src string, m mod, v string) error {
	esc, err := module.EscapePath(m.path)
	if err != nil {
		return err
	}
	at := filepath.Join(dir, filepath.FromSlash(esc), "@v")
	if err := os.MkdirAll(at, 0o755); err != nil {
		return err
	}
	goMod, err := output(src, nil, "git", "show", m.tag(v)+":"+path.Join(m.dir, "go.mod"))
	if err != nil {
		return err
	}
	when, err := output(src, nil, "git", "log", "-1", "--format=%cI", m.tag(v))
	if err != nil {
		return err
	}
	t, err := time.Parse(time.RFC3339, strings.TrimSpace(when))
	if err != nil {
		return err
	}
	info, err := json.Marshal(struct {
		Version string
		Time    time.Time
	}{v, t.UTC()})
	if err != nil {
		return err
	}
	zf, err := os.Create(filepath.Join(at, v+".zip"))
	if err != nil {
		return err
	}
	subdir := ""
	if m.dir != "" {
		subdir = m.dir + "/"
	}
	err = modzip.CreateFromVCS(zf, module.Version{Path: m.path, Version: v}, src, m.tag(v), subdir)
	if cerr := zf.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return err
	}
	return errors.Join(
		os.WriteFile(filepath.Join(at, "list"), []byte(v+"\n"), 0o644),
		os.WriteFile(filepath.Join(at, v+".info"), info, 0o644),
		os.WriteFile(filepath.Join(at, v+".mod"), []byte(goMod), 0o644),
	)
}

// consumerEnv returns the environment of the consumers: our modules from the
// file-system proxy at proxy without the checksum database, everything else
// from the real proxy (after the local module cache, which the go command
// can read as a proxy too) and verified. Their module cache, modcache, is
// their own, kept between runs so that the toolchains and the third-party
// modules are reused; this repository's modules are removed from it first,
// so that no earlier run's zips are. Their build cache is new in every run
// (see buildCache).
func consumerEnv(scratch, proxy, modcache string) ([]string, error) {
	for _, d := range []string{modcache, filepath.Join(modcache, "cache", "download")} {
		if err := os.RemoveAll(filepath.Join(d, filepath.FromSlash(path.Dir(rootPath)))); err != nil {
			return nil, err
		}
	}
	goEnv, err := output(scratch, nil, "go", "env", "GOPROXY", "GOMODCACHE")
	if err != nil {
		return nil, err
	}
	vals := strings.Split(strings.TrimSpace(goEnv), "\n")
	if len(vals) != 2 {
		return nil, fmt.Errorf("go env: unexpected output %q", goEnv)
	}
	proxies := []string{fileURL(proxy)}
	if cache := filepath.Join(vals[1], "cache", "download"); isDir(cache) {
		proxies = append(proxies, fileURL(cache))
	}
	if vals[0] != "" && vals[0] != "off" {
		proxies = append(proxies, vals[0])
	}
	var env []string
	for _, kv := range os.Environ() {
		k, _, _ := strings.Cut(kv, "=")
		switch k {
		case "GOFLAGS", "GOPROXY", "GONOPROXY", "GOPRIVATE", "GONOSUMDB", "GOSUMDB", "GOINSECURE",
			"GOMODCACHE", "GOCACHE", "GOTOOLCHAIN", "GOWORK", "GO111MODULE":
			continue
		}
		env = append(env, kv)
	}
	return append(env,
		"GOFLAGS=-mod=mod -modcacherw",
		"GOPROXY="+strings.Join(proxies, ","),
		"GONOSUMDB="+rootPath,
		"GOMODCACHE="+modcache,
		"GOCACHE="+filepath.Join(scratch, "gocache"),
		"GOWORK=off",
	), nil
}

// consume installs m@v alone in a fresh consumer module in dir, on the
// oldest toolchain m's go line claims, and returns what went wrong.
func consume(dir, src string, m mod, v string, env []string) []string {
	fail := func(format string, args ...any) []string {
		return []string{m.path + ": " + fmt.Sprintf(format, args...)}
	}
	pkgs, err := importable(src, m)
	if err != nil {
		return fail("%v", err)
	}
	if len(pkgs) == 0 {
		return fail("no importable package")
	}
	var prog strings.Builder
	prog.WriteString("// Command consumer imports every package of " + m.path + ".\npackage main\n\nimport (\n")
	for _, p := range pkgs {
		fmt.Fprintf(&prog, "\t_ %q\n", p)
	}
	prog.WriteString(")\n\nfunc main() {}\n")
	if err := errors.Join(
		os.MkdirAll(dir, 0o755),
		os.WriteFile(filepath.Join(dir, "go.mod"), []byte("module example.com/consumer\n\ngo "+m.goLine+"\n"), 0o644),
		os.WriteFile(filepath.Join(dir, "main.go"), []byte(prog.String()), 0o644),
	); err != nil {
		return fail("%v", err)
	}
	tc := toolchain(m.goLine)
	env = append(slices.Clip(env), "GOTOOLCHAIN="+tc, "GOCACHE="+buildCache(env, tc))
	if got, err := output(dir, env, "go", "env", "GOVERSION"); err != nil {
		return fail("%v", err)
	} else if got = strings.TrimSpace(got); got != tc {
		return fail("go env GOVERSION is %s, want %s", got, tc)
	}
	for _, args := range [][]string{
		{"get", m.path + "@" + v},
		{"build", "-o", os.DevNull, "."},
		{"vet", "."},
	} {
		if _, err := output(dir, env, "go", args...); err != nil {
			return fail("%v", err)
		}
	}
	var failures []string
	data, err := os.ReadFile(filepath.Join(dir, "go.mod"))
	if err != nil {
		return fail("%v", err)
	}
	if mf, err := modfile.ParseLax("go.mod", data, nil); err != nil {
		failures = append(failures, fail("consumer go.mod: %v", err)...)
	} else if mf.Go == nil || mf.Go.Version != m.goLine {
		failures = append(failures, fail("go get raised the consumer's go line from %s:\n%s", m.goLine, data)...)
	}
	graph, err := output(dir, env, "go", "mod", "graph")
	if err != nil {
		return append(failures, fail("%v", err)...)
	}
	for _, f := range forbidden {
		for _, line := range strings.Split(graph, "\n") {
			if strings.Contains(line, f) {
				failures = append(failures, fail("test-only dependency %s in the consumer's module graph: %s", f, line)...)
				break
			}
		}
	}
	return failures
}

// importable returns the import paths of m's packages that another module
// can import: not main, not internal, not testdata, and not the examples
// (their shared pieces are for the examples, not an API).
func importable(src string, m mod) ([]string, error) {
	files, err := output(src, nil, "git", "ls-files", "--", path.Join(m.dir, "*.go"))
	if err != nil {
		return nil, err
	}
	seen := map[string]bool{}
	var pkgs []string
	for _, f := range strings.Fields(files) {
		dir := path.Dir(f)
		rel := strings.TrimPrefix(strings.TrimPrefix(dir, m.dir), "/")
		if dir == "." {
			rel = ""
		}
		if seen[dir] || strings.HasSuffix(f, "_test.go") || inNested(src, m.dir, dir) {
			continue
		}
		elems := strings.Split(rel, "/")
		if slices.Contains(elems, "internal") || slices.Contains(elems, "testdata") || slices.Contains(elems, "examples") {
			continue
		}
		pf, err := parser.ParseFile(token.NewFileSet(), filepath.Join(src, f), nil, parser.PackageClauseOnly)
		if err != nil {
			return nil, err
		}
		seen[dir] = true
		if pf.Name.Name == "main" {
			continue
		}
		pkgs = append(pkgs, path.Join(m.path, rel))
	}
	slices.Sort(pkgs)
	return pkgs, nil
}

// inNested reports whether dir, under module directory root, belongs to a
// nested module (a directory between them has its own go.mod).
func inNested(src, root, dir string) bool {
	for d := dir; d != root && d != "." && d != "/"; d = path.Dir(d) {
		if _, err := os.Stat(filepath.Join(src, d, "go.mod")); err == nil {
			return true
		}
	}
	return false
}

// toolchain returns the oldest Go release that a go line allows:
// go1.24.0 for "1.24" or "1.24.0", go1.24.3 for "1.24.3".
func toolchain(goLine string) string {
	if strings.Count(goLine, ".") == 1 {
		goLine += ".0"
	}
	return "go" + goLine
}

// output runs a command in dir (with env, or the process's environment when
// env is nil) and returns its standard output; its error carries the
// command and its standard error.
func output(dir string, env []string, name string, args ...string) (string, error) {
	cmd := exec.Command(name, args...)
	cmd.Dir = dir
	cmd.Env = env
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		return "", fmt.Errorf("%s %s: %v\n%s", name, strings.Join(args, " "), err, strings.TrimSpace(stderr.String()))
	}
	return stdout.String(), nil
}

// defaultModCache is the consumers' module cache unless -modcache says
// otherwise: in the user's cache directory, or the temporary one.
func defaultModCache() string {
	dir, err := os.UserCacheDir()
	if err != nil {
		dir = os.TempDir()
	}
	return filepath.Join(dir, "chatbot-releasecheck", "mod")
}

// buildCache is the consumers' build cache for toolchain tc: a new one in
// every run, one per toolchain, under the GOCACHE consumerEnv set in env.
// The go command indexes module-cache directories in its build cache and
// trusts them never to change, but this check replaces our own modules in the
// module cache on every run: a kept build cache then answered "module … found
// (v0.1.0), but does not contain package …" and "could not import context
// (open : no such file or directory)" for the previous run's contents.
func buildCache(env []string, tc string) string {
	root := os.TempDir()
	for _, kv := range env {
		if v, ok := strings.CutPrefix(kv, "GOCACHE="); ok {
			root = v
		}
	}
	return filepath.Join(root, tc)
}

func fileURL(dir string) string { return "file://" + filepath.ToSlash(dir) }

func isDir(p string) bool {
	fi, err := os.Stat(p)
	return err == nil && fi.IsDir()
}
