import { graphql } from './graphql.js';

export const ThreadLiveSubscription = graphql`
  subscription ThreadLiveSubscription($conversationId: ID!, $connections: [ID!]!) {
    messageEvents(conversationId: $conversationId) {
      kind
      messageId
      message @appendNode(connections: $connections, edgeTypeName: "MessageEdge") {
        id
        content
      }
    }
  }
`;
