package api

import (
	"fmt"
	"net/url"
	"testing"

	"github.com/parley-inbox/parley/internal/store"
	"github.com/parley-inbox/parley/internal/store/storetest"
)

func TestContactsAPI(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s *store.Store) {
		f := newConvFixture(t, s)
		member, outsider, admin := f.member.Token, f.outsider.Token, f.admin.Token
		ada := itoa(*f.conv.ContactID)
		var grace int64
		f.ts.runScenarios(t, []apiScenario{
			{Name: "create", Method: "POST", Path: "/api/v1/contacts", Token: outsider,
				Body: map[string]any{"name": "Grace Hopper", "company": "Navy", "emails": []string{"Grace@Navy.example"},
					"phones": []string{"+1 555 123 4567"}, "owner_id": f.outsider.ID, "properties": map[string]any{"rank": "admiral"}},
				Status: 201,
				Check: func(t *testing.T, body map[string]any) {
					grace = jsonID(t, body, "id")
					if body["name"] != "Grace Hopper" || fmt.Sprint(body["emails"]) != "[grace@navy.example]" ||
						fmt.Sprint(body["phones"]) != "[+15551234567]" || jsonID(t, body, "owner_id") != f.outsider.ID ||
						fmt.Sprint(body["properties"]) != "map[rank:admiral]" || body["blocked"] != false || body["conversations"] != nil {
						t.Fatalf("created = %v", body)
					}
				}},
			{Name: "invalid email", Method: "POST", Path: "/api/v1/contacts", Token: member, Body: map[string]any{"emails": []string{"nope"}},
				Status: 400, Code: "invalid_email"},
			{Name: "invalid phone", Method: "POST", Path: "/api/v1/contacts", Token: member, Body: map[string]any{"phones": []string{"12345"}},
				Status: 400, Code: "invalid_phone"},
			{Name: "taken email", Method: "POST", Path: "/api/v1/contacts", Token: member, Body: map[string]any{"emails": []string{"ada@example.com"}},
				Status: 409, Code: "identity_taken"},
			{Name: "unknown field", Method: "POST", Path: "/api/v1/contacts", Token: member, Body: map[string]any{"nickname": "x"},
				Status: 400, Code: "unknown_field"},
			{Name: "properties must be an object", Method: "POST", Path: "/api/v1/contacts", Token: member, Body: map[string]any{"properties": []int{1}},
				Status: 400, Code: "invalid_properties"},

			{Name: "get with conversations", Method: "GET", Path: "/api/v1/contacts/" + ada, Token: member, Status: 200,
				Check: func(t *testing.T, body map[string]any) {
					convs, ok := body["conversations"].([]any)
					if !ok || len(convs) != 1 || jsonID(t, convs[0].(map[string]any), "id") != f.conv.ID {
						t.Fatalf("contact = %v", body)
					}
					if fmt.Sprint(body["identities"]) != "[map[kind:email value:ada@example.com]]" {
						t.Fatalf("identities = %v", body["identities"])
					}
				}},
			{Name: "hidden from an outsider", Method: "GET", Path: "/api/v1/contacts/" + ada, Token: outsider, Status: 404, Code: "contact_not_found"},
			{Name: "patch hidden", Method: "PATCH", Path: "/api/v1/contacts/" + ada, Token: outsider, Body: map[string]any{"name": "x"},
				Status: 404, Code: "contact_not_found"},
			{Name: "missing", Method: "GET", Path: "/api/v1/contacts/999999", Token: admin, Status: 404, Code: "contact_not_found"},
			{Name: "patch", Method: "PATCH", Path: "/api/v1/contacts/" + ada, Token: member,
				Body: `{"company": "Analytical", "owner_id": null, "blocked": true, "add_emails": ["ada@lovelace.example"],
					"remove_emails": ["ada@example.com"], "add_phones": ["+44 20 7946 0958"], "properties": {"tier": 2}}`,
				Status: 200,
				Check: func(t *testing.T, body map[string]any) {
					if body["company"] != "Analytical" || body["name"] != "Ada" || body["owner_id"] != nil || body["blocked"] != true ||
						fmt.Sprint(body["emails"]) != "[ada@lovelace.example]" || fmt.Sprint(body["phones"]) != "[+442079460958]" ||
						fmt.Sprint(body["properties"]) != "map[tier:2]" {
						t.Fatalf("patched = %v", body)
					}
				}},
			{Name: "patch bad owner", Method: "PATCH", Path: "/api/v1/contacts/" + ada, Token: member, Body: map[string]any{"owner_id": "me"},
				Status: 400, Code: "invalid_owner_id"},
			{Name: "patch unknown owner", Method: "PATCH", Path: "/api/v1/contacts/" + ada, Token: member, Body: map[string]any{"owner_id": 999999},
				Status: 400, Code: "owner_not_found"},
			{Name: "patch unknown field", Method: "PATCH", Path: "/api/v1/contacts/" + ada, Token: member, Body: map[string]any{"emails": []string{}},
				Status: 400, Code: "unknown_field"},
			{Name: "list as member", Method: "GET", Path: "/api/v1/contacts", Token: member, Status: 200,
				Contains: []string{"Grace Hopper", "Analytical"}},
			{Name: "list as outsider", Method: "GET", Path: "/api/v1/contacts", Token: outsider, Status: 200,
				Contains: []string{"Grace Hopper"}, NotContains: []string{"Analytical"}},
			{Name: "search", Method: "GET", Path: "/api/v1/contacts?q=" + url.QueryEscape("navy.example"), Token: member, Status: 200,
				Contains: []string{"Grace Hopper"}, NotContains: []string{"Analytical"}},
			{Name: "bad cursor", Method: "GET", Path: "/api/v1/contacts?cursor=" + encodeCursor("x"), Token: member, Status: 400, Code: "invalid_cursor"},
		})
		// Pages of one cover every visible contact exactly once.
		seen := map[int64]int{}
		next := ""
		for range 10 {
			p := "/api/v1/contacts?limit=1"
			if next != "" {
				p += "&cursor=" + url.QueryEscape(next)
			}
			status, body := f.ts.do(t, "GET", p, member, nil)
			if status != 200 {
				t.Fatalf("%d %v", status, body)
			}
			for _, c := range listData(t, body) {
				seen[jsonID(t, c, "id")]++
			}
			if body["next_cursor"] == nil {
				break
			}
			next = body["next_cursor"].(string)
		}
		if len(seen) != 2 || seen[grace] != 1 || seen[*f.conv.ContactID] != 1 {
			t.Fatalf("pages saw %v", seen)
		}
	})
}
