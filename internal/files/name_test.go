package files

import (
	"strings"
	"testing"
	"unicode"
	"unicode/utf8"
)

func TestSanitizeName(t *testing.T) {
	long := strings.Repeat("å", 150) + ".pdf" // 300 bytes of stem
	for _, tc := range []struct{ in, want string }{
		{"report.pdf", "report.pdf"},
		{`C:\fakepath\Invoice March.pdf`, "Invoice March.pdf"},
		{"../../etc/passwd", "passwd"},
		{"dir/", "file"},
		{"", "file"},
		{"...", "file"},
		{" .hidden ", "hidden"},
		{"trailing. . ", "trailing"},
		{"a\x00b\x1fc\x7f.txt", "abc.txt"},
		{"tab\tand\nnewline  spaces.txt", "tab and newline spaces.txt"},
		{"evil\u202egpj.exe", "evilgpj.exe"}, // right-to-left override
		{"zero\u200bwidth.txt", "zerowidth.txt"},
		{`what?<are>:these|"*.txt`, "what__are__these___.txt"},
		{"bad\xffutf8.txt", "bad_utf8.txt"},
		{"CON.txt", "_CON.txt"},
		{"nul", "_nul"},
		{"console.txt", "console.txt"},
		{"Résumé – 2024 (final).docx", "Résumé – 2024 (final).docx"},
		{"写真.jpg", "写真.jpg"},
		{long, strings.Repeat("å", 98) + ".pdf"},
	} {
		if got := SanitizeName(tc.in); got != tc.want {
			t.Errorf("SanitizeName(%q) = %q, want %q", tc.in, got, tc.want)
		}
	}
}

// FuzzSanitizeName checks the promises of SanitizeName on any input. The seeds run in every
// test run; go test -fuzz=FuzzSanitizeName ./internal/files explores further.
func FuzzSanitizeName(f *testing.F) {
	for _, s := range []string{
		"report.pdf", `C:\fakepath\x.png`, "../../etc/passwd", "", ".", "..", " . ",
		"a\x00b", "evil\u202egpj.exe", "bad\xff\xfe.txt", "CON", "com1.tar.gz", "lpt9 .txt",
		strings.Repeat("x", 300) + ".txt", strings.Repeat("é", 120) + "." + strings.Repeat("y", 40),
		strings.Repeat("a ", 150) + ". .pdf", "CON" + strings.Repeat(".", 250), "名前\u200d付き.docx",
		"\ufeffbom.txt", "x" + strings.Repeat(" .", 120) + "z",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, in string) {
		got := SanitizeName(in)
		if got == "" {
			t.Fatal("empty name")
		}
		if len(got) > MaxNameBytes {
			t.Fatalf("%q: %d bytes", got, len(got))
		}
		if !utf8.ValidString(got) {
			t.Fatalf("%q is not UTF-8", got)
		}
		if strings.ContainsAny(got, `/\<>:"|?*`) {
			t.Fatalf("%q keeps a refused character", got)
		}
		for _, r := range got {
			if r != ' ' && !unicode.IsPrint(r) {
				t.Fatalf("%q keeps %U", got, r)
			}
		}
		if strings.HasPrefix(got, ".") || strings.HasSuffix(got, ".") || strings.HasPrefix(got, " ") ||
			strings.HasSuffix(got, " ") || strings.Contains(got, "  ") {
			t.Fatalf("%q has bad dots or spaces", got)
		}
		if reservedName(got) {
			t.Fatalf("%q is a device name", got)
		}
		if again := SanitizeName(got); again != got {
			t.Fatalf("not idempotent: %q → %q → %q", in, got, again)
		}
	})
}
