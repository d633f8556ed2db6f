import { graphql } from './graphql.js';

export const ComposerMutation = graphql`
  mutation ComposerMutation($input: PostMessageInput!, $connections: [ID!]!) {
    postMessage(input: $input) {
      message @appendNode(connections: $connections, edgeTypeName: "MessageEdge") {
        id
        content
        createdAt
      }
      errors {
        field
        message
        code
      }
    }
  }
`;
