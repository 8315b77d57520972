// What became of an appeal decision, read from the ticket the mutation
// answers with. Today a correction takes effect at once (the ticket is
// REPLIED and the code re-evaluated); issue 12 will make a correction that
// lifts a red need a second approver: the answer will then carry a step of
// one of PENDING_ACTIONS and the ticket will stay open. The desk shows each
// outcome; adding the approval is adding its action here.
export type CorrectionOutcome =
  | { kind: 'applied' }
  | { kind: 'rejected' }
  | { kind: 'pending'; text: string }

/** Steps that mean "waiting for a second approver" (the names issue 12's API may use). */
export const PENDING_ACTIONS: readonly string[] = ['REQUEST_APPROVAL', 'CORRECTION_PENDING', 'REQUEST_CORRECTION_APPROVAL']

export function outcomeOf(
  action: 'RESOLVE_APPEAL' | 'REJECT_APPEAL',
  ticket: { state: string; steps: readonly { action: string; text: string }[] },
): CorrectionOutcome {
  const last = ticket.steps[ticket.steps.length - 1]
  if (last && PENDING_ACTIONS.includes(last.action)) return { kind: 'pending', text: last.text }
  return action === 'REJECT_APPEAL' ? { kind: 'rejected' } : { kind: 'applied' }
}
