package outbound

// Preview is how a message from a presents itself: the From display name and the signature
// with a's tokens filled in (plain text and HTML), exactly as Compose writes them. The setup
// screen and the composer show it before anything is sent.
func (id Identity) Preview(a *Agent) (fromName, sigText, sigHTML string) {
	sigText, sigHTML = id.Signature.render(tokenValues(a, id.CompanyName, id.InboxName))
	return id.fromName(a), sigText, sigHTML
}
