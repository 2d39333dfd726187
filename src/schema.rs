// @generated automatically by Diesel CLI.

diesel::table! {
    forum_config (guild_id) {
        guild_id -> Nullable<BigInt>,
        forum_url -> Text,
        category -> Nullable<Text>,
    }
}

diesel::table! {
    github_config (guild_id) {
        guild_id -> Nullable<BigInt>,
        repository -> Text,
        announce_channel -> Nullable<BigInt>,
        announce_releases -> Bool,
    }
}

diesel::table! {
    guilds (id) {
        id -> Nullable<BigInt>,
        name -> Text,
        joined_at -> Nullable<Timestamp>,
    }
}

diesel::table! {
    permission_defaults (role_name, permission) {
        role_name -> Text,
        permission -> Text,
    }
}

diesel::table! {
    permission_lists (guild_id, role_name, permission) {
        guild_id -> BigInt,
        role_name -> Text,
        permission -> Text,
    }
}

diesel::table! {
    users (id, guild_id) {
        id -> BigInt,
        guild_id -> BigInt,
        name -> Text,
        created_at -> Nullable<Timestamp>,
        display_name -> Nullable<Text>,
    }
}

diesel::joinable!(forum_config -> guilds (guild_id));
diesel::joinable!(github_config -> guilds (guild_id));
diesel::joinable!(permission_lists -> guilds (guild_id));
diesel::joinable!(users -> guilds (guild_id));

diesel::allow_tables_to_appear_in_same_query!(
    forum_config,
    github_config,
    guilds,
    permission_defaults,
    permission_lists,
    users,
);
