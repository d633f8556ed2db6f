"""The floor: hand-written SQL returning the same JSON as the server, in ONE statement.

Each statement builds the whole GraphQL response (`{"data": ...}`, global IDs, enum names,
cursors, pageInfo) with json_build_object/json_agg over LATERAL sub-selects, with the same
visibility rules the server applies ($1 = the viewer's organization, $2 = the viewer).
It is what the database must do at the least for the query; the benchmark prints the
server's cost as a multiple of it.
"""

ENGAGEMENT_STATUS = "(ARRAY['ACTIVE','PAUSED','CLOSED'])"
PROJECT_STATUS = "(ARRAY['ACTIVE','PAUSED','COMPLETED','CANCELLED'])"
PROJECT_PHASE = "(ARRAY['KICKOFF','SETUP','BUILD','TESTING','DEPLOYMENT','HANDOFF'])"
CONVERSATION_STATUS = "(ARRAY['OPEN','CLOSED'])"
ORDER_STATUS = "(ARRAY['PENDING','PAID','REFUNDED','CANCELLED'])"
ROLE = "(ARRAY['CLIENT','STAFF','ADMIN'])"
NEVER = "'0001-01-01T00:00:00Z'::timestamptz"


def _b64url(text: str) -> str:
    return f"rtrim(translate(encode(convert_to({text}, 'UTF8'), 'base64'), E'+/\\n', '-_'), '=')"


def gid(type_name: str, column: str) -> str:
    """A Relay global ID, as `schema.ids.to_global_id` writes it."""
    return _b64url(f"'{type_name}:' || {column}::text")


def message_cursor(alias: str) -> str:
    """A messages cursor, as `resolvers.cursors.encode_cursor` writes it."""
    created = f"(to_json({alias}.created_at) #>> '{{}}')"
    key = f"""'["messages","' || {created} || '","' || {alias}.id || '"]'"""
    return _b64url(key)


def _user(alias: str) -> str:
    return (
        f"json_build_object('id', {gid('User', f'{alias}.id')}, 'name', {alias}.name, "
        f"'email', {alias}.email, 'role', {ROLE}[{alias}.role])"
    )


def _message(alias: str, sender: str) -> str:
    return f"""json_build_object(
        'id', {gid("Message", f"{alias}.id")}, 'content', {alias}.content,
        'isInternal', {alias}.is_internal, 'createdAt', {alias}.created_at,
        'updatedAt', {alias}.updated_at, 'attachments', coalesce({alias}.attachments, '[]'),
        'sender', {_user(sender)})"""


def _public_only(client: bool, alias: str) -> str:
    return f"AND {alias}.is_internal = false" if client else ""


def dashboard(client: bool) -> str:
    """Q1 for a STAFF viewer (client=False) or a CLIENT viewer (client=True)."""
    own = "AND e.client_id = $2" if client else "AND $2::uuid IS NOT NULL"
    activity = "c.last_public_message_at" if client else "c.last_message_at"
    return f"""
SELECT json_build_object('data', json_build_object('engagements', json_build_object(
  'totalCount', (SELECT count(*) FROM engagements e WHERE e.org_id = $1 {own}),
  'edges', coalesce((
    SELECT json_agg(json_build_object('node', json_build_object(
      'id', {gid("Engagement", "e.id")}, 'name', e.name,
      'status', {ENGAGEMENT_STATUS}[e.status], 'createdAt', e.created_at,
      'updatedAt', e.updated_at, 'closedAt', e.closed_at,
      'projects', json_build_object('edges', coalesce(p.edges, '[]')),
      'conversations', json_build_object('edges', coalesce(c.edges, '[]')),
      'orders', json_build_object('edges', coalesce(o.edges, '[]'))
    )) ORDER BY e.created_at DESC, e.id DESC)
    FROM (SELECT * FROM engagements e WHERE e.org_id = $1 {own}
          ORDER BY e.created_at DESC, e.id DESC LIMIT 20) e
    LEFT JOIN LATERAL (
      SELECT json_agg(json_build_object('node', json_build_object(
        'id', {gid("Project", "p.id")}, 'name', p.name, 'status', {PROJECT_STATUS}[p.status],
        'phase', {PROJECT_PHASE}[p.phase], 'createdAt', p.created_at,
        'updatedAt', p.updated_at, 'completedAt', p.completed_at
      )) ORDER BY p.phase, p.created_at, p.id) AS edges
      FROM (SELECT * FROM projects p
            WHERE p.engagement_id = e.id AND p.org_id = $1 AND p.deleted_at IS NULL
            ORDER BY p.phase, p.created_at, p.id LIMIT 10) p
    ) p ON true
    LEFT JOIN LATERAL (
      SELECT json_agg(json_build_object('node', json_build_object(
        'id', {gid("Conversation", "c.id")}, 'subject', c.subject,
        'status', {CONVERSATION_STATUS}[c.status], 'lastMessageAt', {activity},
        'messages', json_build_object('edges', coalesce(m.edges, '[]'))
      )) ORDER BY coalesce({activity}, {NEVER}) DESC, c.created_at DESC, c.id DESC) AS edges
      FROM (SELECT * FROM conversations c WHERE c.engagement_id = e.id AND c.org_id = $1
            ORDER BY coalesce({activity}, {NEVER}) DESC, c.created_at DESC, c.id DESC
            LIMIT 10) c
      LEFT JOIN LATERAL (
        SELECT json_agg(json_build_object('node', {_message("m", "u")})
                        ORDER BY m.created_at, m.id) AS edges
        FROM (SELECT * FROM conversation_messages m
              WHERE m.conversation_id = c.id AND m.org_id = $1 AND m.deleted_at IS NULL
                {_public_only(client, "m")}
              ORDER BY m.created_at DESC, m.id DESC LIMIT 10) m
        JOIN users u ON u.id = m.sender_id
      ) m ON true
    ) c ON true
    LEFT JOIN LATERAL (
      SELECT json_agg(json_build_object('node', json_build_object(
        'id', {gid("Order", "o.id")}, 'amountCents', o.amount_cents, 'currency', o.currency,
        'status', {ORDER_STATUS}[o.status], 'createdAt', o.created_at
      )) ORDER BY o.created_at DESC, o.id DESC) AS edges
      FROM (SELECT * FROM orders o WHERE o.engagement_id = e.id AND o.org_id = $1
              {"AND o.client_id = $2" if client else ""}
            ORDER BY o.created_at DESC, o.id DESC LIMIT 10) o
    ) o ON true
  ), '[]')
)))::text"""


def _thread(keyset: str, descending: bool, has_next: str, has_previous: str) -> str:
    direction = "DESC" if descending else "ASC"
    return f"""
SELECT json_build_object('data', json_build_object('conversation', (
  SELECT json_build_object(
    'id', {gid("Conversation", "c.id")}, 'subject', c.subject,
    'messages', json_build_object(
      'pageInfo', json_build_object(
        'hasNextPage', {has_next}, 'hasPreviousPage', {has_previous},
        'startCursor', (array_agg(m.cursor ORDER BY m.created_at, m.id)
                        FILTER (WHERE m.n <= 30))[1],
        'endCursor', (array_agg(m.cursor ORDER BY m.created_at DESC, m.id DESC)
                      FILTER (WHERE m.n <= 30))[1]),
      'edges', coalesce(json_agg(json_build_object('cursor', m.cursor, 'node', m.node)
                                 ORDER BY m.created_at, m.id) FILTER (WHERE m.n <= 30), '[]')))
  FROM conversations c
  LEFT JOIN LATERAL (
    SELECT m.created_at, m.id, {message_cursor("m")} AS cursor, {_message("m", "u")} AS node,
           row_number() OVER (ORDER BY m.created_at {direction}, m.id {direction}) AS n
    FROM (SELECT * FROM conversation_messages m
          WHERE m.conversation_id = c.id AND m.org_id = $1 AND m.deleted_at IS NULL {keyset}
          ORDER BY m.created_at {direction}, m.id {direction} LIMIT 31) m
    JOIN users u ON u.id = m.sender_id
  ) m ON true
  WHERE c.id = $2 AND c.org_id = $1
  GROUP BY c.id, c.subject)))::text"""


def _exists(condition: str) -> str:
    return f"""EXISTS (SELECT 1 FROM conversation_messages x WHERE x.conversation_id = c.id
        AND x.org_id = $1 AND x.deleted_at IS NULL AND {condition})"""


THREAD_NEWEST = _thread("", True, "false", "count(*) > 30")
"""Q2 newest page (STAFF): $1 org, $2 conversation."""

THREAD_OLDER = _thread(
    "AND (m.created_at, m.id) < ($3::timestamptz, $4::uuid)",
    True,
    _exists("(x.created_at, x.id) >= ($3::timestamptz, $4::uuid)"),
    "count(*) > 30",
)
"""Q2 older page (STAFF): $3, $4 = the `before` cursor's key."""

THREAD_DEEP = _thread(
    "AND (m.created_at, m.id) > ($3::timestamptz, $4::uuid)",
    False,
    "count(*) > 30",
    _exists("(x.created_at, x.id) <= ($3::timestamptz, $4::uuid)"),
)
"""Q2 deep page (STAFF): $3, $4 = the `after` cursor's key."""
