import { graphql } from './graphql.js';

export const EngagementListFragment = graphql`
  fragment EngagementList_query on Query
  @refetchable(queryName: "EngagementListPaginationQuery")
  @argumentDefinitions(
    count: { type: "Int", defaultValue: 10 }
    cursor: { type: "String" }
    status: { type: "[EngagementStatus!]" }
  ) {
    engagements(first: $count, after: $cursor, status: $status)
      @connection(key: "EngagementList_engagements", filters: ["status"]) {
      totalCount
      edges {
        node {
          id
          ...EngagementCard_engagement
        }
      }
    }
  }
`;
