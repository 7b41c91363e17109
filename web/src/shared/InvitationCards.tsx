/**
 * Invitations waiting for their invitee's answer (A11), a home-page panel with one card each:
 * who invites, to what, until when, and why the account cannot accept when it cannot. Accept
 * only when it may; Decline always. The organization and portal invitation panels are built
 * from it, each with its own requests and words.
 */
import { ActionOutcome } from './forms';
import { HomePanel } from './HomePanel';
import { useAction } from './submission';
import { useResource } from './useResource';

export interface InvitationCard {
  readonly id: string;
  /** Who invites: names the card and its buttons. */
  readonly from: string;
  readonly text: string;
  readonly canAccept: boolean;
  readonly reason?: string | undefined;
}

interface PanelProps<T> {
  title: string;
  /** Names the panel for tests: `home-<testId>`. */
  testId: string;
  /** Names the list of cards. */
  label: string;
  /** The load's key: one per person, so another person's list never shows. */
  resourceKey: string;
  load: () => Promise<readonly T[]>;
  toCard: (invitation: T) => InvitationCard;
  /** Accepts; answers the sentence to show. */
  accept: (card: InvitationCard) => Promise<string>;
  decline: (card: InvitationCard) => Promise<void>;
}

/** Shown only while there is an invitation to answer, or the outcome of the last answer. */
export function InvitationsPanel<T>(props: PanelProps<T>) {
  const invitations = useResource(props.resourceKey, props.load);
  const action = useAction(invitations.reload);
  const list = invitations.data ?? [];
  if (!invitations.error && list.length === 0 && action.note === null && !action.error) {
    return null;
  }
  const accept = (card: InvitationCard) => void action.act(() => props.accept(card), card.id);
  const decline = (card: InvitationCard) =>
    void action.act(async () => {
      await props.decline(card);
      return `You declined the invitation from ${card.from}.`;
    }, card.id);
  return (
    <HomePanel title={props.title} testId={props.testId} error={invitations.error}>
      <ActionOutcome action={action} />
      {list.length > 0 && (
        <InvitationCards
          label={props.label}
          busy={action.busy}
          cards={list.map(props.toCard)}
          onAccept={accept}
          onDecline={decline}
        />
      )}
    </HomePanel>
  );
}

interface Props {
  label: string;
  cards: readonly InvitationCard[];
  busy: boolean;
  onAccept: (card: InvitationCard) => void;
  onDecline: (card: InvitationCard) => void;
}

function InvitationCards({ label, cards, busy, onAccept, onDecline }: Props) {
  return (
    <ul className="cards" aria-label={label}>
      {cards.map((card) => (
        <li className="card" key={card.id}>
          <p className="card-title">{card.from}</p>
          <p>{card.text}</p>
          {card.reason && <p className="subtle">{card.reason}</p>}
          <div className="inline-form">
            {card.canAccept && (
              <button
                type="button"
                className="button"
                disabled={busy}
                aria-label={`Accept the invitation from ${card.from}`}
                onClick={() => onAccept(card)}
              >
                Accept
              </button>
            )}
            <button
              type="button"
              className="button secondary"
              disabled={busy}
              aria-label={`Decline the invitation from ${card.from}`}
              onClick={() => onDecline(card)}
            >
              Decline
            </button>
          </div>
        </li>
      ))}
    </ul>
  );
}
