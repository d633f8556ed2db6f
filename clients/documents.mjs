// The client documents (documents/*.graphql), shared by the Node checks.
import { readFileSync } from 'node:fs';
import { gql } from '@apollo/client';

export function documentText(name) {
  return readFileSync(new URL(`./documents/${name}.graphql`, import.meta.url), 'utf8');
}

export function document(name) {
  return gql(documentText(name));
}
