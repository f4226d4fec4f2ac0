// `.catch(() => {})` swallows an error without a word: the handler must say in a comment why
// dropping the error is right here (or handle it).
const isEmptyHandler = (node) =>
  (node.type === 'ArrowFunctionExpression' || node.type === 'FunctionExpression') &&
  node.body.type === 'BlockStatement' &&
  node.body.body.length === 0;

export default {
  meta: {
    type: 'problem',
    docs: { description: 'an empty .catch() handler must carry a comment saying why the error is dropped' },
    schema: [],
    messages: { silent: 'Empty .catch() handler: say in a comment inside it why the error is dropped, or handle it.' },
  },
  create(context) {
    return {
      CallExpression(node) {
        const callee = node.callee;
        if (callee.type !== 'MemberExpression' || callee.property.type !== 'Identifier') return;
        const handler =
          callee.property.name === 'catch'
            ? node.arguments[0]
            : callee.property.name === 'then'
              ? node.arguments[1]
              : undefined;
        if (!handler || !isEmptyHandler(handler)) return;
        if (context.sourceCode.getCommentsInside(handler.body).length > 0) return;
        context.report({ node: handler, messageId: 'silent' });
      },
    };
  },
};
