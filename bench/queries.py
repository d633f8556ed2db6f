"""The benchmark's GraphQL documents: Q1 dashboard, Q2 thread pages, Q3 detail."""

USER_FIELDS = "id name email role"
MESSAGE_FIELDS = f"""id content isInternal createdAt updatedAt
  attachments {{ name url size }} sender {{ {USER_FIELDS} }}"""
PAGE_INFO = "pageInfo { hasNextPage hasPreviousPage startCursor endCursor }"

DASHBOARD = f"""query Dashboard {{
  engagements(first: 20) {{
    totalCount
    edges {{ node {{
      id name status createdAt updatedAt closedAt
      projects(first: 10) {{ edges {{ node {{
        id name status phase createdAt updatedAt completedAt }} }} }}
      conversations(first: 10) {{ edges {{ node {{
        id subject status lastMessageAt
        messages(last: 10) {{ edges {{ node {{ {MESSAGE_FIELDS} }} }} }} }} }} }}
      orders(first: 10) {{ edges {{ node {{ id amountCents currency status createdAt }} }} }}
    }} }}
  }}
}}"""
"""Q1: the 20 newest engagements with all their projects, their conversations each with its
10 newest messages and their senders, and their orders."""

THREAD_NEWEST = f"""query ThreadNewest($id: ID!) {{
  conversation(id: $id) {{
    id subject
    messages(last: 30) {{ {PAGE_INFO} edges {{ cursor node {{ {MESSAGE_FIELDS} }} }} }}
  }}
}}"""
"""Q2, first request of a thread page: the newest 30 messages."""

THREAD_OLDER = f"""query ThreadOlder($id: ID!, $before: String!) {{
  conversation(id: $id) {{
    id subject
    messages(last: 30, before: $before) {{
      {PAGE_INFO} edges {{ cursor node {{ {MESSAGE_FIELDS} }} }} }}
  }}
}}"""
"""Q2, scrolling back: the 30 messages before a cursor."""

THREAD_DEEP = f"""query ThreadDeep($id: ID!, $after: String!) {{
  conversation(id: $id) {{
    id subject
    messages(first: 30, after: $after) {{
      {PAGE_INFO} edges {{ cursor node {{ {MESSAGE_FIELDS} }} }} }}
  }}
}}"""
"""Q2, a page in the middle of the 100,000-message thread (keyset, no OFFSET)."""

DETAIL = f"""query Detail($id: ID!) {{
  engagement(id: $id) {{
    id name status createdAt updatedAt closedAt
    client {{ {USER_FIELDS} }}
    proposal {{ id title status amountCents currency createdAt signedAt }}
    projects(first: 100) {{ totalCount edges {{ node {{
      id name description status phase createdAt updatedAt completedAt
      service {{ id name description }} }} }} }}
    conversations(first: 100) {{ totalCount edges {{ node {{
      id subject status createdAt updatedAt lastMessageAt
      lastMessage {{ id content createdAt sender {{ {USER_FIELDS} }} }}
      messages(last: 10) {{ totalCount {PAGE_INFO} edges {{ cursor node {{ {MESSAGE_FIELDS} }} }} }}
    }} }} }}
    orders(first: 100) {{ totalCount edges {{ node {{
      id amountCents currency status createdAt client {{ {USER_FIELDS} }} }} }} }}
  }}
}}"""
"""Q3: one engagement by id with everything nested."""

POST_MESSAGE = f"""mutation Post($input: PostMessageInput!) {{
  postMessage(input: $input) {{ message {{ {MESSAGE_FIELDS} }} }}
}}"""
"""M1: one message posted to the thread (stock execution: the compiler plans queries only)."""

_MESSAGE_SCALARS = "id content isInternal createdAt updatedAt attachments { name url size }"
THREAD_STEPS: list[tuple[str, str]] = [
    ("1 typename, no viewer", "query Step1 { __typename }"),
    ("2 the viewer (its transaction)", "query Step2 { viewer { __typename } }"),
    (
        "3 the conversation by id",
        "query Step3($id: ID!) { conversation(id: $id) { id subject } }",
    ),
    (
        "4 with 30 message ids",
        "query Step4($id: ID!) { conversation(id: $id) { id subject"
        " messages(last: 30) { edges { node { id } } } } }",
    ),
    (
        "5 with their fields",
        "query Step5($id: ID!) { conversation(id: $id) { id subject"
        f" messages(last: 30) {{ edges {{ node {{ {_MESSAGE_SCALARS} }} }} }} }} }}",
    ),
    (
        "6 with their senders",
        "query Step6($id: ID!) { conversation(id: $id) { id subject"
        f" messages(last: 30) {{ edges {{ node {{ {_MESSAGE_SCALARS}"
        f" sender {{ {USER_FIELDS} }} }} }} }} }} }}",
    ),
]
"""Q2 built up a part at a time (`bench.instructions --only "Q2 step"`): each document adds
one part of the thread page, whose last part (cursors and page info) is Q2 itself."""
