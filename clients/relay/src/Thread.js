import { graphql } from './graphql.js';

export const ThreadQuery = graphql`
  query ThreadQuery($id: ID!) {
    conversation(id: $id) {
      id
      subject
      status
      ...ThreadMessages_conversation
      ...ThreadLatest_conversation
    }
  }
`;
