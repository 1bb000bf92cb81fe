package e2e_test

import (
	"bytes"
	"fmt"
	"io/fs"
	"os"
	"os/exec"
	"path"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
)

// The repository stands alone: a reader who clones it must find every
// document it refers to inside it. These are the names of documents
// that once lived beside the repository, spelt in pieces so that this
// file does not name them itself.
var outsideNames = []string{"shared/" + "API.md", "shared/" + "DESIGN.md", ".." + "/shared"}

// Markdown link targets: inline links and images, [text](target "title"),
// and reference definitions, [name]: target, which (as CommonMark has it)
// cannot interrupt a paragraph: a definition follows a blank line or
// another definition.
var (
	inlineLink    = regexp.MustCompile(`!?\[[^\]]*\]\(\s*<?([^)\s>]+)>?(?:\s+"[^"]*")?\s*\)`)
	referenceLink = regexp.MustCompile(`^ {0,3}\[[^\]]+\]:[ \t]*<?([^\s>]+)`)
	urlScheme     = regexp.MustCompile(`^[A-Za-z][A-Za-z0-9+.-]*:`)
)

// TestNothingPointsOutside fails when a file of the repository (tracked,
// or new and not ignored) names a document outside it, or holds a
// Markdown link whose target resolves outside the repository or to no
// file in it. Links to web addresses and to anchors are not followed.
func TestNothingPointsOutside(t *testing.T) {
	root, err := filepath.Abs("..")
	if err != nil {
		t.Fatal(err)
	}
	files := repositoryFiles(t, root)
	if len(files) < 50 {
		t.Fatalf("found only %d files in %s", len(files), root)
	}
	for _, name := range files {
		data, err := os.ReadFile(filepath.Join(root, filepath.FromSlash(name)))
		if err != nil {
			if os.IsNotExist(err) {
				continue // deleted in the working tree, not yet in the index
			}
			t.Fatal(err)
		}
		if bytes.IndexByte(data, 0) >= 0 {
			continue // binary
		}
		for _, o := range outsideNames {
			if i := bytes.Index(data, []byte(o)); i >= 0 {
				t.Errorf("%s:%d names %s, which is outside the repository", name, lineOf(data, i), o)
			}
		}
		if !strings.HasSuffix(name, ".md") {
			continue
		}
		for _, l := range markdownLinks(string(data)) {
			target := l.target
			if urlScheme.MatchString(target) || strings.HasPrefix(target, "#") || strings.HasPrefix(target, "//") {
				continue
			}
			target, _, _ = strings.Cut(target, "#")
			target, _, _ = strings.Cut(target, "?")
			var resolved string
			if strings.HasPrefix(target, "/") {
				resolved = path.Clean(strings.TrimPrefix(target, "/"))
			} else {
				resolved = path.Clean(path.Join(path.Dir(name), target))
			}
			if resolved == ".." || strings.HasPrefix(resolved, "../") {
				t.Errorf("%s:%d links to %s, outside the repository", name, l.line, l.target)
				continue
			}
			if _, err := os.Stat(filepath.Join(root, filepath.FromSlash(resolved))); err != nil {
				t.Errorf("%s:%d links to %s, which is not in the repository", name, l.line, l.target)
			}
		}
	}
}

// repositoryFiles lists the repository's files, relative to root with
// slashes: those git tracks and those it would add (not ignored), or,
// without git, every file but those under .git and node_modules.
func repositoryFiles(t *testing.T, root string) []string {
	t.Helper()
	out, err := exec.Command("git", "-C", root, "ls-files", "-z", "--cached", "--others", "--exclude-standard").Output()
	if err == nil {
		var files []string
		for _, f := range strings.Split(string(out), "\x00") {
			if f != "" {
				files = append(files, f)
			}
		}
		return files
	}
	t.Logf("git ls-files: %v; walking the tree instead", err)
	var files []string
	err = filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() && (d.Name() == ".git" || d.Name() == "node_modules") {
			return filepath.SkipDir
		}
		if !d.IsDir() {
			rel, _ := filepath.Rel(root, p)
			files = append(files, filepath.ToSlash(rel))
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return files
}

// link is a link target of a Markdown text and its line.
type link struct {
	target string
	line   int
}

// markdownLinks returns the link targets of a Markdown text, leaving out
// what fenced code blocks show.
func markdownLinks(text string) []link {
	var links []link
	inCode, afterBreak := false, true // a definition follows a blank line or another definition
	for i, l := range strings.Split(text, "\n") {
		if strings.HasPrefix(strings.TrimSpace(l), "```") {
			inCode = !inCode
			continue
		}
		if inCode {
			continue
		}
		for _, m := range inlineLink.FindAllStringSubmatch(l, -1) {
			links = append(links, link{m[1], i + 1})
		}
		if m := referenceLink.FindStringSubmatch(l); m != nil && afterBreak {
			links = append(links, link{m[1], i + 1})
			continue
		}
		afterBreak = strings.TrimSpace(l) == ""
	}
	return links
}

// lineOf returns the line number of byte offset i of data.
func lineOf(data []byte, i int) int { return bytes.Count(data[:i], []byte("\n")) + 1 }

func TestMarkdownLinks(t *testing.T) {
	text := "See [the API](docs/api.md#errors) and ![logo](<img/a.png> \"Logo\").\n" +
		"[ref]: ../outside.md\n" + // interrupts a paragraph: not a definition
		"\n" +
		"[one]: one.md\n" +
		"[two]: <two.md>\n" +
		"```\n[code](not-a-link.md)\n```\n" +
		"[after](after.md)\n"
	var got []string
	for _, l := range markdownLinks(text) {
		got = append(got, fmt.Sprintf("%s@%d", l.target, l.line))
	}
	want := []string{"docs/api.md#errors@1", "img/a.png@1", "one.md@4", "two.md@5", "after.md@9"}
	if !slices.Equal(got, want) {
		t.Errorf("markdownLinks = %v, want %v", got, want)
	}
}
