-- +goose Up
-- Notes on a contact (CONTACT-3): what agents want the next person to know about a customer,
-- beside every conversation with them. Deleting a contact deletes its notes.
CREATE TABLE contact_notes (
    id         INTEGER PRIMARY KEY AUTOINCREMENT,
    contact_id INTEGER NOT NULL REFERENCES contacts(id) ON DELETE CASCADE,
    author_id  INTEGER NOT NULL REFERENCES users(id),
    body       TEXT NOT NULL,
    created_at INTEGER NOT NULL,
    updated_at INTEGER NOT NULL
);
-- The sidebar reads a contact's newest notes first.
CREATE INDEX contact_notes_contact ON contact_notes (contact_id, created_at, id);

-- +goose Down
SELECT 'down migrations are not supported';
