import { graphql } from './graphql.js';

export const DashboardQuery = graphql`
  query DashboardQuery {
    viewer {
      role
      user {
        id
        name
      }
      organization {
        id
        name
      }
    }
    ...EngagementList_query
  }
`;
