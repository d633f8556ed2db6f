import { graphql } from './graphql.js';

// The newest messages first loaded, older ones paged backward with last/before.
export const ThreadLatestFragment = graphql`
  fragment ThreadLatest_conversation on Conversation
  @refetchable(queryName: "ThreadLatestPaginationQuery")
  @argumentDefinitions(count: { type: "Int", defaultValue: 20 }, cursor: { type: "String" }) {
    latest: messages(last: $count, before: $cursor) @connection(key: "ThreadLatest_latest") {
      edges {
        node {
          id
          content
        }
      }
    }
  }
`;
