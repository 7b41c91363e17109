/**
 * Invitations waiting for their invitee's answer (A11), one card each: who invites, to what,
 * until when, and why the account cannot accept when it cannot. Accept only when it may;
 * Decline always. The home page's invitation panels (organizations, portal) are built from it.
 */
export interface InvitationCard {
  readonly id: string;
  /** Who invites: names the card and its buttons. */
  readonly from: string;
  readonly text: string;
  readonly canAccept: boolean;
  readonly reason?: string | undefined;
}

interface Props {
  label: string;
  cards: readonly InvitationCard[];
  busy: boolean;
  onAccept: (card: InvitationCard) => void;
  onDecline: (card: InvitationCard) => void;
}

export function InvitationCards({ label, cards, busy, onAccept, onDecline }: Props) {
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
