package mailtest

import (
	"io"
	"mime"
	"mime/quotedprintable"
	"strings"
)

type mimeDecoder = mime.WordDecoder

func unQP(b []byte) string {
	out, err := io.ReadAll(quotedprintable.NewReader(strings.NewReader(string(b))))
	if err != nil {
		return string(b)
	}
	return string(out)
}
