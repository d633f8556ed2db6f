"""Maximum number of tokens in a document (domain rules §4), with a stable code.

graphql-core's parser aborts after `max_lexical_tokens` tokens (and after `max_comments`
comments), so a huge document is never fully parsed. The parser reports that as a plain
syntax error; when the document really is over either budget, this extension gives the
error its code. Comments get the same budget as tokens.
"""

from collections.abc import Iterator

from graphql import GraphQLError, GraphQLSyntaxError, Source, TokenKind
from graphql.language import Lexer, Token
from strawberry.extensions import SchemaExtension

CODE = "TOO_MANY_TOKENS"


class TokenLimit(SchemaExtension):
    def __init__(self, max_tokens: int) -> None:
        """Args:
        max_tokens: the most lexical tokens (names, punctuators, values) a document may
            have; also the most comments.
        """
        self.max_tokens = max_tokens

    def on_operation(self) -> Iterator[None]:
        options = self.execution_context.parse_options
        options["max_lexical_tokens"] = self.max_tokens  # type: ignore[typeddict-unknown-key]
        options["max_comments"] = self.max_tokens  # type: ignore[typeddict-unknown-key]
        yield

    def on_parse(self) -> Iterator[None]:
        yield
        errors = self.execution_context.pre_execution_errors or []
        query = self.execution_context.query or ""
        if errors and _over_budget(query, self.max_tokens):
            for error in errors:
                _stamp(error)


def _stamp(error: GraphQLError) -> None:
    error.extensions = {**(error.extensions or {}), "code": CODE}


def _over_budget(query: str, limit: int) -> bool:
    """Whether the lexer reads more than `limit` tokens, or more than `limit` comments,
    before the end of the document or a syntax error (as the parser counts them)."""
    lexer = Lexer(Source(query))
    tokens = 0
    try:
        while lexer.advance().kind is not TokenKind.EOF:
            tokens += 1
            if tokens > limit:
                return True
    except GraphQLSyntaxError:
        pass
    comments = 0
    token: Token | None = lexer.token
    while token is not None:
        comments += token.kind is TokenKind.COMMENT
        token = token.prev
    return comments > limit
