// summaryDiffersFromDescription: a Spectral rule function for one Swagger
// operation. Power Platform shows the summary as the action's name and the
// description as its help text, and asks for the two to differ; Spectral's
// core functions look at one value at a time, so comparing two fields of
// the same object needs this.
//
// The comparison ignores case, surrounding space and trailing punctuation,
// so that "Say hello" and "Say hello." count as the same text. Operations
// missing either field are left to the rules that require them.

function normalize(text) {
  return text.trim().replace(/[\s.!?:;,]+$/u, "").toLowerCase();
}

export default function summaryDiffersFromDescription(operation, _options, context) {
  if (operation === null || typeof operation !== "object") {
    return [];
  }
  const { summary, description } = operation;
  if (typeof summary !== "string" || typeof description !== "string") {
    return [];
  }
  if (normalize(summary) === "" || normalize(summary) !== normalize(description)) {
    return [];
  }
  return [
    {
      message: "Operation summary and description must differ: the description should tell more than the action's name.",
      path: [...context.path, "description"],
    },
  ];
}
