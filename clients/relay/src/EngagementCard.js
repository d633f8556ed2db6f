import { graphql } from './graphql.js';

export const EngagementCardFragment = graphql`
  fragment EngagementCard_engagement on Engagement {
    id
    name
    status
    client {
      id
      name
    }
    projects(first: 5) {
      totalCount
      edges {
        node {
          id
          name
          phase
          status
        }
      }
    }
    conversations(first: 5) {
      totalCount
      edges {
        node {
          id
          subject
          lastMessageAt
          lastMessage {
            id
            content
          }
        }
      }
    }
  }
`;
