/**
 * The transport-neutral reply. Embeds and components are Discord's own JSON, so the Discord
 * adapter sends them unchanged and the console renders them as text.
 */
import type { APIEmbed } from 'discord.js';
import { ButtonStyle, ComponentType } from 'discord.js';

/** A clickable button that comes back as a component interaction with its `custom_id`. */
export interface ReplyButton {
  type: ComponentType.Button;
  style: ButtonStyle.Primary | ButtonStyle.Secondary | ButtonStyle.Success | ButtonStyle.Danger;
  custom_id: string;
  label: string;
  disabled?: boolean;
}

/** One choice of a string select menu. */
export interface ReplySelectOption {
  label: string;
  value: string;
  description?: string;
}

/** A string select menu; the chosen value comes back in `InteractionRequest.values`. */
export interface ReplySelectMenu {
  type: ComponentType.StringSelect;
  custom_id: string;
  placeholder?: string;
  options: ReplySelectOption[];
}

/** A row of up to five buttons, or one select menu. */
export interface ReplyActionRow {
  type: ComponentType.ActionRow;
  components: ReplyButton[] | [ReplySelectMenu];
}

/** What a handler answers. */
export interface Reply {
  content?: string;
  embeds?: APIEmbed[];
  components?: ReplyActionRow[];
  /** Only the member who asked sees it. */
  ephemeral?: boolean;
  /** For components: replace the message that holds the component instead of answering anew. */
  update?: boolean;
}

/** One autocomplete suggestion. */
export interface AutocompleteChoice {
  name: string;
  value: string;
}

/**
 * A private question answered by a button: a red one that goes ahead and a grey one that backs
 * out, each coming back with its own custom id.
 */
export function confirmationReply(
  content: string,
  confirm: { customId: string; label: string },
  cancel: { customId: string; label: string },
): Reply {
  return {
    content,
    components: [{
      type: ComponentType.ActionRow,
      components: [
        { type: ComponentType.Button, style: ButtonStyle.Danger, custom_id: confirm.customId,
          label: confirm.label },
        { type: ComponentType.Button, style: ButtonStyle.Secondary, custom_id: cancel.customId,
          label: cancel.label },
      ],
    }],
    ephemeral: true,
  };
}
