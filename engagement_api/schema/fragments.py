"""A document's fragment definitions by name: what every walk of an operation's selections
looks a spread up in."""

from graphql import DocumentNode, FragmentDefinitionNode


def fragments_of(document: DocumentNode) -> dict[str, FragmentDefinitionNode]:
    return {
        definition.name.value: definition
        for definition in document.definitions
        if isinstance(definition, FragmentDefinitionNode)
    }
