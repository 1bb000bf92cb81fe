package smtp

import (
	"bytes"
	"embed"
	"errors"
	"fmt"
	htmltemplate "html/template"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"strings"
	"text/template"
	"time"

	"github.com/gatehouse/gatehouse"
)

//go:embed templates
var embedded embed.FS

// Message is a Mail in words: what goes over the wire.
type Message struct {
	To, Subject, Text, HTML string
	Lang                    string // the language it was written in
}

// Renderer puts a gatehouse.Mail in words: the subject and plain-text
// part from <lang>.txt (text/template), the HTML part from layout.html
// (html/template), which shows the text part's paragraphs.
type Renderer struct {
	brand  string
	text   map[string]*template.Template // by language
	layout *htmltemplate.Template
}

// defaultLang is the language of a Mail whose Lang has no words.
const defaultLang = "en"

// NewRenderer loads the templates: the built-in ones, each replaced by a
// file of the same name in dir when dir is not "" (en.txt, fr.txt,
// layout.html); a <lang>.txt in dir adds a language. Every language must
// say every gatehouse.MailKind.
func NewRenderer(brand, dir string) (*Renderer, error) {
	files := map[string][]byte{}
	if err := readTemplates(embedded, "templates", files); err != nil {
		return nil, err
	}
	if dir != "" {
		if err := readTemplates(os.DirFS(dir), ".", files); err != nil {
			return nil, fmt.Errorf("mail templates %s: %w", dir, err)
		}
	}
	r := &Renderer{brand: brand, text: map[string]*template.Template{}}
	for name, b := range files {
		lang, ok := strings.CutSuffix(name, ".txt")
		if !ok {
			continue
		}
		t, err := template.New(name).Option("missingkey=error").Parse(string(b))
		if err != nil {
			return nil, fmt.Errorf("mail template %s: %w", name, err)
		}
		for _, k := range gatehouse.MailKinds {
			for _, part := range []string{".subject", ".text"} {
				if t.Lookup(string(k)+part) == nil {
					return nil, fmt.Errorf("mail template %s: %q is not defined", name, string(k)+part)
				}
			}
		}
		r.text[lang] = t
	}
	if r.text[defaultLang] == nil {
		return nil, errors.New("mail templates: no " + defaultLang + ".txt")
	}
	layout, err := htmltemplate.New("layout.html").Parse(string(files["layout.html"]))
	if err != nil {
		return nil, fmt.Errorf("mail template layout.html: %w", err)
	}
	if r.layout = layout.Lookup("layout"); r.layout == nil {
		return nil, errors.New(`mail template layout.html: "layout" is not defined`)
	}
	return r, nil
}

// readTemplates reads the *.txt and *.html files directly in dir of fsys
// into files, by name.
func readTemplates(fsys fs.FS, dir string, files map[string][]byte) error {
	entries, err := fs.ReadDir(fsys, dir)
	if err != nil {
		return err
	}
	for _, e := range entries {
		ext := filepath.Ext(e.Name())
		if e.IsDir() || (ext != ".txt" && ext != ".html") {
			continue
		}
		b, err := fs.ReadFile(fsys, path.Join(dir, e.Name()))
		if err != nil {
			return err
		}
		files[e.Name()] = b
	}
	return nil
}

// Render puts m in words, in m's language when there are words for it.
func (r *Renderer) Render(m gatehouse.Mail) (Message, error) {
	lang := r.language(m.Lang)
	data := struct {
		Brand, To, Link, Valid, Detail string
	}{r.brand, m.To, m.Link, validFor(lang, m.Valid), m.Detail}
	var subject, text bytes.Buffer
	t := r.text[lang]
	if err := t.ExecuteTemplate(&subject, string(m.Kind)+".subject", data); err != nil {
		return Message{}, err
	}
	if err := t.ExecuteTemplate(&text, string(m.Kind)+".text", data); err != nil {
		return Message{}, err
	}
	msg := Message{To: m.To, Subject: strings.Join(strings.Fields(subject.String()), " "), Text: strings.TrimSpace(text.String()) + "\n", Lang: lang}
	var paragraphs []string
	for p := range strings.SplitSeq(msg.Text, "\n\n") {
		if p = strings.TrimSpace(p); p != "" {
			paragraphs = append(paragraphs, p)
		}
	}
	var html bytes.Buffer
	if err := r.layout.Execute(&html, struct {
		Lang, Subject, Brand, Link string
		Paragraphs                 []string
	}{lang, msg.Subject, r.brand, m.Link, paragraphs}); err != nil {
		return Message{}, err
	}
	msg.HTML = html.String()
	return msg, nil
}

// language returns the language an Accept-Language header prefers
// among those with words, else the default.
func (r *Renderer) language(header string) string {
	return gatehouse.PickLanguage(header, func(l string) bool { _, ok := r.text[l]; return ok }, defaultLang)
}

// validFor says how long a link works, in whole hours or minutes.
func validFor(lang string, d time.Duration) string {
	n, unit := int(d/time.Minute), "minute"
	if d >= time.Hour && d%time.Hour == 0 {
		n, unit = int(d/time.Hour), "hour"
		if lang == "fr" {
			unit = "heure"
		}
	}
	n = max(n, 1)
	if n > 1 {
		unit += "s"
	}
	return fmt.Sprintf("%d %s", n, unit)
}
