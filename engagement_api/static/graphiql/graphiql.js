// GraphiQL for this server: queries and mutations over HTTP POST to /graphql, subscriptions
// over graphql-transport-ws on the same path. The headers editor starts with an empty bearer
// header; whatever it holds is sent with each HTTP request and as the WebSocket's
// connection_init payload (how the server authenticates a socket).
(function () {
  'use strict';
  var endpoint = new URL('/graphql', window.location.href);
  var socketUrl = new URL(endpoint.href);
  socketUrl.protocol = endpoint.protocol === 'https:' ? 'wss:' : 'ws:';

  var DEFAULT_HEADERS = JSON.stringify({ Authorization: 'Bearer ' }, null, 2);
  var DEFAULT_QUERY = '{\n  viewer {\n    role\n    user { name }\n    organization { name }\n  }\n}\n';

  var overHttp = GraphiQL.createFetcher({ url: endpoint.href });
  var sockets = new Map();

  // One socket per distinct headers value: a new token opens a new authenticated socket.
  function socketFor(headers) {
    var key = JSON.stringify(headers || {});
    if (!sockets.has(key)) {
      sockets.set(
        key,
        graphqlWs.createClient({ url: socketUrl.href, connectionParams: headers || {}, lazy: true }),
      );
    }
    return sockets.get(key);
  }

  function isSubscription(params) {
    try {
      var document = GraphiQL.GraphQL.parse(params.query);
      var operation = GraphiQL.GraphQL.getOperationAST(document, params.operationName || undefined);
      return operation !== null && operation.operation === 'subscription';
    } catch (error) {
      return false;
    }
  }

  function fetcher(params, options) {
    if (isSubscription(params)) {
      return socketFor(options && options.headers).iterate({
        query: params.query,
        variables: params.variables,
        operationName: params.operationName || undefined,
      });
    }
    return overHttp(params, options);
  }

  var explorer = GraphiQLPluginExplorer.explorerPlugin();
  var root = ReactDOM.createRoot(document.getElementById('graphiql'));
  root.render(
    React.createElement(GraphiQL, {
      fetcher: fetcher,
      plugins: [explorer],
      defaultQuery: DEFAULT_QUERY,
      defaultHeaders: DEFAULT_HEADERS,
      defaultEditorToolsVisibility: 'headers',
      isHeadersEditorEnabled: true,
      shouldPersistHeaders: false,
      inputValueDeprecation: true,
    }),
  );
})();
