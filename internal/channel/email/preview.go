package email

import (
	"github.com/parley-inbox/parley/internal/channel/email/outbound"
	"github.com/parley-inbox/parley/internal/store"
)

// Preview is how a reply from u on a channel with settings st presents itself: the From name
// and the team signature with u's tokens filled in, built the way Send builds them.
func Preview(st Settings, u *store.User, inboxName string) (fromName, sigText, sigHTML string) {
	id := outbound.Identity{Email: st.Address, CompanyName: st.CompanyName, InboxName: inboxName,
		NameMode: outbound.NameMode(st.FromName), Signature: outbound.Signature{HTML: st.SignatureHTML}}
	return id.Preview(agentOf(u))
}
