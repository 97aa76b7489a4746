package main

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/require"
	"golang.org/x/mod/modfile"
)

func TestToolchain(t *testing.T) {
	for goLine, want := range map[string]string{"1.24": "go1.24.0", "1.24.0": "go1.24.0", "1.25.3": "go1.25.3"} {
		require.Equal(t, want, toolchain(goLine), goLine)
	}
}

func TestReadVersion(t *testing.T) {
	for _, tt := range []struct{ src, want, err string }{
		{src: "package chatbot\n\n// Version is.\nconst Version = \"0.1.0\"\n", want: "v0.1.0"},
		{src: "package chatbot\n\nconst (\n\tother = 1\n\tVersion = \"1.2.3\"\n)\n", want: "v1.2.3"},
		{src: "package chatbot\n\nconst Version = \"0.1\"\n", err: "not a semantic version"},
		{src: "package chatbot\n\nconst Version = other\n", err: "not a string literal"},
		{src: "package chatbot\n\nvar Version = \"0.1.0\"\n", err: "no const Version"},
	} {
		file := filepath.Join(t.TempDir(), "client.go")
		require.NoError(t, os.WriteFile(file, []byte(tt.src), 0o644))
		got, err := readVersion(file)
		if tt.err != "" {
			require.ErrorContains(t, err, tt.err)
			continue
		}
		require.NoError(t, err)
		require.Equal(t, tt.want, got)
	}
}

// TestRequireVersion is the static half of the check that fails on the
// tree of issue 24: a nested module requiring v0.0.0 of the root.
func TestRequireVersion(t *testing.T) {
	parse := func(dir, goMod string) mod {
		f, err := modfile.ParseLax("go.mod", []byte(goMod), nil)
		require.NoError(t, err)
		return mod{dir: dir, path: f.Module.Mod.Path, goLine: f.Go.Version, file: f}
	}
	root := parse("", "module github.com/chatbot-go/chatbot\n\ngo 1.24\n")
	good := parse("resilience", "module github.com/chatbot-go/chatbot/resilience\n\ngo 1.24.0\n\n"+
		"require github.com/chatbot-go/chatbot v0.1.0\n\nreplace github.com/chatbot-go/chatbot => ../\n")
	require.Empty(t, requireVersion([]mod{root, good}, "v0.1.0"))

	old := parse("redislimit", "module github.com/chatbot-go/chatbot/redislimit\n\ngo 1.24.0\n\nrequire (\n"+
		"\tgithub.com/chatbot-go/chatbot v0.0.0\n\tgithub.com/chatbot-go/chatbot/resilience v0.1.0\n"+
		"\tgithub.com/chatbot-go/chatbot/bench v0.1.0\n)\n")
	require.Equal(t, []string{
		"github.com/chatbot-go/chatbot/redislimit requires github.com/chatbot-go/chatbot@v0.0.0, want v0.1.0 (chatbot.Version)",
		"github.com/chatbot-go/chatbot/redislimit requires github.com/chatbot-go/chatbot/bench, which is not released",
	}, requireVersion([]mod{root, good, old}, "v0.1.0"))
}

// TestReleasedAndImportable classifies this repository's own modules and
// packages: the test-only modules and the packages a consumer cannot import
// (internal, main, nested modules) are left out.
func TestReleasedAndImportable(t *testing.T) {
	src, err := filepath.Abs(filepath.Join("..", ".."))
	require.NoError(t, err)
	mods, err := released(src)
	require.NoError(t, err)
	var paths []string
	for _, m := range mods {
		paths = append(paths, m.path)
	}
	require.Equal(t, []string{
		"github.com/chatbot-go/chatbot",
		"github.com/chatbot-go/chatbot/otelchatbot",
		"github.com/chatbot-go/chatbot/redislimit",
		"github.com/chatbot-go/chatbot/resilience",
	}, paths)

	pkgs, err := importable(src, mods[2])
	require.NoError(t, err)
	require.Equal(t, []string{
		"github.com/chatbot-go/chatbot/redislimit",
		"github.com/chatbot-go/chatbot/redislimit/redistest",
	}, pkgs)
	pkgs, err = importable(src, mods[0])
	require.NoError(t, err)
	require.Contains(t, pkgs, "github.com/chatbot-go/chatbot/workspace/workspacetest")
	for _, p := range pkgs {
		require.NotContains(t, p, "internal")
		require.NotContains(t, p, "examples")
		require.NotContains(t, p, "resilience")
	}
}
