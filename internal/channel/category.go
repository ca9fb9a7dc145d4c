package channel

// Capacity categories group channel kinds for capacity limits (SPEC ACCESS-7): a user may have a
// limit of open conversations per category besides their total.
const (
	CategoryMessaging = "messaging"
	CategoryEmail     = "email"
	CategoryCalls     = "calls"
)

// Categories lists the capacity categories in the order the API shows them.
var Categories = []string{CategoryMessaging, CategoryEmail, CategoryCalls}

// Category returns the capacity category of a channel kind. Email and forms are written
// exchanges answered at the agent's pace ("Email/Other" in HubSpot's help desk); calls are calls;
// every other kind — custom channels, chat, Messenger, WhatsApp, SMS and kinds added later — is
// messaging. An empty kind (a conversation without a channel) has no category.
func Category(kind string) string {
	switch kind {
	case "":
		return ""
	case "email", "form":
		return CategoryEmail
	case "call":
		return CategoryCalls
	}
	return CategoryMessaging
}
