/** The organisation's members and roles, and its pending invitations (admins invite by email). */
import { useEffect, useState } from "preact/hooks";
import { api, ApiError, type Organisation } from "../api";

interface Member {
  userId: string;
  email: string;
  name: string | null;
  role: string;
}
interface Invitation {
  id: string;
  email: string;
  role: string;
  expiresAt: string;
}
const ROLES = ["owner", "admin", "viewer"];

export function Members({ org, canWrite }: { org: Organisation; canWrite: boolean }) {
  const [members, setMembers] = useState<Member[]>([]);
  const [invitations, setInvitations] = useState<Invitation[]>([]);
  const [error, setError] = useState<string | null>(null);
  const [message, setMessage] = useState<string | null>(null);

  const load = () => {
    api<Member[]>("GET", `/api/orgs/${org.id}/members`).then(setMembers).catch(() => undefined);
    if (canWrite) {
      api<Invitation[]>("GET", `/api/orgs/${org.id}/invitations`)
        .then(setInvitations)
        .catch(() => undefined);
    }
  };
  useEffect(load, [org.id, canWrite]);

  async function attempt(action: () => Promise<unknown>, done?: string) {
    setError(null);
    setMessage(null);
    try {
      await action();
      if (done) setMessage(done);
      load();
    } catch (e) {
      setError(e instanceof ApiError ? e.message : String(e));
    }
  }

  function invite(event: Event) {
    event.preventDefault();
    const form = event.target as HTMLFormElement;
    const data = new FormData(form);
    const email = String(data.get("email")).trim();
    void attempt(async () => {
      await api("POST", `/api/orgs/${org.id}/invitations`, { email, role: String(data.get("role")) });
      form.reset();
    }, `Invitation sent to ${email}.`);
  }

  return (
    <section class="card">
      <h2>Members</h2>
      <div class="table-scroll">
      <table class="table">
        <thead>
          <tr>
            <th scope="col">Member</th>
            <th scope="col">Role</th>
            {canWrite && <th scope="col"><span class="sr-only">Actions</span></th>}
          </tr>
        </thead>
        <tbody>
          {members.map((m) => (
            <tr data-member={m.email}>
              <td>
                {m.name ? `${m.name} ` : ""}
                <span class="muted">{m.email}</span>
              </td>
              <td>
                {canWrite ? (
                  <select
                    aria-label={`Role of ${m.email}`}
                    value={m.role}
                    onChange={(e) =>
                      attempt(() =>
                        api("PATCH", `/api/orgs/${org.id}/members/${m.userId}`, {
                          role: (e.target as HTMLSelectElement).value,
                        }),
                      )
                    }
                  >
                    {ROLES.map((r) => (
                      <option value={r}>{r}</option>
                    ))}
                  </select>
                ) : (
                  m.role
                )}
              </td>
              {canWrite && (
                <td>
                  <button
                    type="button"
                    class="link danger"
                    aria-label={`Remove ${m.email}`}
                    onClick={() =>
                      confirm(`Remove ${m.email} from ${org.name}?`) &&
                      attempt(() => api("DELETE", `/api/orgs/${org.id}/members/${m.userId}`))
                    }
                  >
                    Remove
                  </button>
                </td>
              )}
            </tr>
          ))}
          {invitations.map((i) => (
            <tr class="muted" data-invitation={i.email}>
              <td>
                {i.email} (invited, until {new Date(i.expiresAt).toLocaleDateString()})
              </td>
              <td>{i.role}</td>
              {canWrite && (
                <td>
                  <button
                    type="button"
                    class="link danger"
                    aria-label={`Withdraw the invitation of ${i.email}`}
                    onClick={() =>
                      confirm(`Withdraw the invitation of ${i.email}? Its link stops working.`) &&
                      attempt(
                        () => api("DELETE", `/api/orgs/${org.id}/invitations/${i.id}`),
                        `The invitation of ${i.email} was withdrawn.`,
                      )
                    }
                  >
                    Withdraw
                  </button>
                </td>
              )}
            </tr>
          ))}
        </tbody>
      </table>
      </div>
      {canWrite && (
        <form class="inline" onSubmit={invite}>
          <label>
            Invite by email <input name="email" type="email" required />
          </label>
          <label>
            Role
            <select name="role" aria-label="Invited role">
              <option value="viewer">viewer</option>
              <option value="admin">admin</option>
            </select>
          </label>
          <button type="submit">Invite</button>
        </form>
      )}
      {message && <p role="status">{message}</p>}
      {error && (
        <p class="error" role="alert">
          {error}
        </p>
      )}
    </section>
  );
}
