import { graphql } from './graphql.js';

// Forward paging (usePaginationFragment), refetched through Query.node.
export const ThreadMessagesFragment = graphql`
  fragment ThreadMessages_conversation on Conversation
  @refetchable(queryName: "ThreadMessagesPaginationQuery")
  @argumentDefinitions(count: { type: "Int", defaultValue: 20 }, cursor: { type: "String" }) {
    messages(first: $count, after: $cursor) @connection(key: "ThreadMessages_messages") {
      totalCount
      edges {
        node {
          id
          content
          isInternal
          createdAt
          sender {
            id
            name
          }
        }
      }
    }
  }
`;
